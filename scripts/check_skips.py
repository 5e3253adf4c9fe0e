#!/usr/bin/env python3
"""Fails the test command when a test skipped that may not skip here.

On a machine set up by scripts/setup.sh every test runs, but for the GPU
tests where there is no CUDA device, and the real-data tests where the
CIFAR-10 copy beside the repository (../shared/data) is absent. Any other
skip (a missing PostgreSQL, browser, gnuplot or Python package; a script's
exit 77) hides a regression: this lists each with its reason and exits 1.

    scripts/check_skips.py build/ctest-junit.xml   # ctest --output-junit's file
"""
import sys
import xml.etree.ElementTree as ET

# The reasons a test may give for skipping (its output holds one of them).
ALLOWED = (
    "no CUDA device",  # GPU cases
    "no CIFAR-10 at",  # real-data cases, the data set not beside the repository
)


def reason(out):
    """The line of a skipped test's output that says why (gtest prints it
    after "Skipped"; a script prints it last)."""
    lines = [l.strip() for l in (out or "").splitlines() if l.strip()]
    for i, line in enumerate(lines):
        if line.endswith(": Skipped") and i + 1 < len(lines):
            return lines[i + 1]
    return lines[-1] if lines else "(no output)"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    root = ET.parse(sys.argv[1]).getroot()
    allowed, refused = 0, []
    for case in root.iter("testcase"):
        if case.find("skipped") is None:
            continue
        out = case.findtext("system-out") or ""
        if any(why in out for why in ALLOWED):
            allowed += 1
        else:
            refused.append((case.get("name"), reason(out)))
    for name, why in refused:
        print(f"check_skips: {name} skipped, which it may not on a set-up machine: {why}")
    print(f"check_skips: {allowed} allowed skip(s) (GPU, real data), {len(refused)} not allowed")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
