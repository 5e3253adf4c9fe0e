#!/usr/bin/env python3
"""scripts/check_skips.py on ctest JUnit files made here: GPU and real-data
skips pass, any other skip (a missing tool, a script's exit 77) fails the
test command naming the test and its reason."""
import os
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "check_skips.py")


def case(name, out, skipped=True):
    skip = '<skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>' if skipped else ""
    return f'<testcase name="{name}" status="{"notrun" if skipped else "run"}">{skip}<system-out>{out}</system-out></testcase>'


def check(cases):
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write("<testsuite>" + "".join(cases) + "</testsuite>")
    try:
        r = subprocess.run([sys.executable, SCRIPT, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return r.returncode, r.stdout


def main():
    ok = case("Files.W", "[  PASSED  ] 1 test.", skipped=False)
    gpu = case("PackGpu.F", "x.cpp:48: Skipped\nno CUDA device\n[  SKIPPED ] PackGpu.F")
    data = case("TrainCli.Real", "x.cpp:9: Skipped\nno CIFAR-10 at ../shared/data\n")
    tool = case("Report.Browser", "x.cpp:1: Skipped\nchromium not installed (scripts/setup.sh installs it)\n")
    script = case("Slurm.Job", "slurm_test.sh: munged not found\n")
    status, out = check([ok, gpu, data])
    assert status == 0 and "2 allowed skip(s)" in out, out
    status, out = check([ok, gpu, tool, script])
    assert status == 1, out
    assert "Report.Browser skipped" in out and "chromium not installed" in out, out
    assert "Slurm.Job skipped" in out and "munged not found" in out, out
    assert "PackGpu.F skipped" not in out, out
    print("check_skips: allowed and refused skips as expected")


if __name__ == "__main__":
    main()
