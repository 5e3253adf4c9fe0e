#!/usr/bin/env bash
# lrtune on a CUDA machine in one run: builds against the LibTorch of the
# Python PyTorch installed there, runs the tests (GPU tests included), times
# trial packs against one trial and the Python reference, and writes
# results.md plus logs into $OUT (default gpu-out/). No network is needed:
# what the machine lacks comes from .gpu-deps/ (made by scripts/gpu-deps.sh
# on a Debian machine and carried along). See docs/gpu.md.
#
#   scripts/gpu.sh [STAGE...]   stages: build test suite bench accuracy python study
#                               (default: build test bench accuracy python)
#
# Within one 10-minute call: `scripts/gpu.sh build test`, then at once (the
# build folder stays while the machine is warm) `scripts/gpu.sh bench accuracy python`.
#
# `study` runs the five reference parts for LRTUNE_STUDY_EPOCHS epochs each
# (default 2; 0 = as shipped) and times them. Each stage is bounded by a timeout
# and logged to $OUT/<stage>.log; a failed stage does not stop later ones
# (except a failed build). LRTUNE_TORCH_PREFIX and LRTUNE_TORCH_ABI point it at
# another LibTorch than the Python one (to rehearse on a CPU machine).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${OUT:-$root/gpu-out}
deps=$root/.gpu-deps
build=${LRTUNE_GPU_BUILD:-$root/build-gpu}
work=${LRTUNE_GPU_WORK:-/tmp/lrtune-gpu}
jobs=$(nproc)
mkdir -p "$out" "$work"
stages=("$@")
((${#stages[@]})) || stages=(build test bench accuracy python)
results=$out/results.md

say() { echo "$*" | tee -a "$results"; }
want() { [[ " ${stages[*]} " == *" $1 "* ]]; }
# run STAGE TIMEOUT CMD...: logs to $OUT/STAGE.log, notes time and status.
run() {
  local stage=$1 limit=$2; shift 2
  local t0=$SECONDS rc
  timeout "$limit" "$@" >"$out/$stage.log" 2>&1
  rc=$?
  say "- $stage: exit $rc after $((SECONDS - t0)) s (log: $stage.log)"
  return $rc
}

echo "# lrtune on a GPU: $(date -u +%Y-%m-%dT%H:%MZ)" >"$results"
{
  echo
  echo '```'
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
      "cxx11 abi", torch.compiled_with_cxx11_abi(), "gpu", torch.cuda.is_available())' 2>&1
  cmake --version | head -1
  echo "cpus $jobs, git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo '```'
  echo
} >>"$results"

# --- dependencies -----------------------------------------------------------
if [[ ! -d $deps/include/CLI ]]; then
  say "no .gpu-deps/: run scripts/gpu-deps.sh on a Debian machine and carry .gpu-deps along"
  exit 1
fi
# LRTUNE_TORCH_PREFIX / LRTUNE_TORCH_ABI: another LibTorch (a rehearsal on a CPU machine).
torch_prefix=${LRTUNE_TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
abi=${LRTUNE_TORCH_ABI:-$(python3 -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')}
# cuDNN of the pip wheels, for LibTorch's CMake files that look for it.
cudnn=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null || true)
export PATH=$PATH:/usr/local/cuda/bin
gtest=$work/gtest
if want build && [[ ! -f $gtest/lib/cmake/GTest/GTestConfig.cmake && ! -f $gtest/lib64/cmake/GTest/GTestConfig.cmake ]]; then
  # Built here so that it has this machine's compiler and LibTorch's C++ ABI.
  run googletest 300 bash -c "cmake -S '$deps/src/googletest' -B '$work/gtest-build' -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX='$gtest' -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
      -DCMAKE_CXX_FLAGS=-D_GLIBCXX_USE_CXX11_ABI=$abi -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
      && cmake --build '$work/gtest-build' -j$jobs && cmake --install '$work/gtest-build'" ||
    { say "GoogleTest did not build; see googletest.log"; exit 1; }
fi

# --- data -------------------------------------------------------------------
# full: 50,000 + test images (timing); small: 10,000 distinct real images when
# a real slice was carried (accuracy), else the synthetic set.
full=$work/cifar-full small=$work/cifar-small
mkdir -p "$full" "$small"
if [[ -f $deps/cifar/data_batch_1.bin ]]; then
  for i in 1 2 3 4 5; do cp "$deps/cifar/data_batch_1.bin" "$full/data_batch_$i.bin"; done
  cp "$deps/cifar/test_batch.bin" "$full/" && cp "$deps/cifar/test_batch.bin" "$small/"
  python3 - "$deps/cifar/data_batch_1.bin" "$small" <<'EOF'
import sys
raw = open(sys.argv[1], "rb").read()
rec = 3073 * 2000
for i in range(5):
    open(f"{sys.argv[2]}/data_batch_{i + 1}.bin", "wb").write(raw[i * rec:(i + 1) * rec])
EOF
  data_note="real CIFAR-10 slice (training files: 5 copies of data_batch_1 for timing; its 10,000 images split in 5 for accuracy; 5,000 test images)"
else
  python3 - "$full" <<'EOF'
import sys
import numpy as np
rng = np.random.default_rng(7)
def write(path, n, start):
    labels = (np.arange(n) + start) % 10
    img = rng.integers(0, 160, (n, 3, 32, 32), dtype=np.uint8)
    for c in range(10):  # a learnable class pattern: a bright band
        img[labels == c, c % 3, 3 * c:3 * c + 3, :] = 255
    rec = np.empty((n, 3073), np.uint8)
    rec[:, 0] = labels
    rec[:, 1:] = img.reshape(n, -1)
    rec.tofile(path)
for i in range(5):
    write(f"{sys.argv[1]}/data_batch_{i + 1}.bin", 10000, i)
write(f"{sys.argv[1]}/test_batch.bin", 10000, 5)
EOF
  cp "$full"/*.bin "$small/"
  data_note="synthetic data of the official size (no real slice carried): accuracies say nothing"
fi
say "data: $data_note"
say ""
say "## Stages"

# --- build ------------------------------------------------------------------
if want build; then
  cfg=(-S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
       "-DCMAKE_PREFIX_PATH=$torch_prefix;$deps;$gtest" -DTORCH_CUDA_ARCH_LIST=9.0
       -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DLRTUNE_BUILD_TESTS=ON -DLRTUNE_BUILD_BENCH=ON)
  [[ -n $cudnn ]] && cfg+=("-DCUDNN_INCLUDE_PATH=$cudnn/include" "-DCUDNN_LIBRARY_PATH=$cudnn/lib")
  run configure 300 cmake "${cfg[@]}" || { say "configure failed; see configure.log"; exit 1; }
  run build 600 cmake --build "$build" -j"$jobs" --target lrtune lrtune_tests lrtune_pack_bench ||
    { say "build failed; see build.log"; exit 1; }
fi
bin=$build/lrtune tests=$build/tests/lrtune_tests bench=$build/bench/lrtune_pack_bench

# --- tests ------------------------------------------------------------------
if want test; then
  run test-gpu 300 "$tests" --gtest_filter='PackGpu.*'
  grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test|^\[  FAILED  \] [A-Za-z]' "$out/test-gpu.log" |
    sed 's/^/  /' | tee -a "$results"
  # Packs, the trainer, the model and the data on this LibTorch (its CPU side).
  run test-core 300 "$tests" --gtest_brief=1 \
      --gtest_filter='Pack*:Packed*:Trainer.*:Sgd.*:Schedule.*:Config.*:Split.*:Batcher.*:Cifar.*:ReferenceCnn.*:ModelRegistry.*:Study*'
  grep -E '^\[  (PASSED|FAILED) |^\[  FAILED  \] [A-Za-z]' "$out/test-core.log" | sed 's/^/  /' |
    tee -a "$results"
  # `lrtune train` on the GPU through run_training (BatchMaker path), one short epoch.
  run train-cuda 200 "$bin" train --device cuda --data "$small" --epochs 1 --val-size 1000 \
      --out "$work/train-cuda"
fi

# The whole suite (stage `suite`): tests needing tools absent there (gnuplot, a browser) fail.
if want suite; then
  run suite 500 "$tests" --gtest_brief=1
  grep -E '^\[  (PASSED|FAILED) |^\[  FAILED  \] [A-Za-z]' "$out/suite.log" | sed 's/^/  /' |
    tee -a "$results"
fi

# --- benchmarks ---------------------------------------------------------------
if want bench; then
  run bench 600 "$bench" --data "$full" --device cuda --packs 1,4,8,16,32 \
      --precisions fp32,bf16 --epochs 2 --scratch "$work" --out "$out/packs.md"
  say ""
  say "## Packs (2 epochs each, numbers of the second; train img/s counts every copy)"
  say ""
  cat "$out/packs.md" >>"$results" 2>/dev/null
  # The reference study from these rows: parts of 6, 6, 2, 2 trials x 100 epochs and
  # 1 trial x 200, each part one pack (a pack of 8 or 4 bounds one of 6 or 2).
  python3 - "$out/packs.md" <<'EOF' | tee -a "$results"
import sys
rows = {}
for line in open(sys.argv[1]):
    c = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(c) > 5 and c[0] == "pack" and c[2] == "fp32":
        rows[int(c[1])] = float(c[5])
parts = [("part1", 8, 100), ("part2", 8, 100), ("part3", 4, 100), ("part4", 4, 100), ("part5", 1, 200)]
if all(k in rows for _, k, _ in parts):
    t = [rows[k] * e for _, k, e in parts]
    print(f"\nReference study projected from these rows: {sum(t) / 60:.1f} min one part after another, "
          f"{max(t) / 60:.1f} min with the five parts side by side (the GPU shared).")
EOF
fi
if want accuracy; then
  # The same seeds in fp32 and bf16, and one trial alone: 15 epochs on 9,000 images.
  run accuracy 600 "$bench" --data "$small" --device cuda --packs 8 --precisions fp32,bf16 \
      --epochs 15 --train-subset 9000 --scratch "$work" --out "$out/accuracy.md"
  say ""
  say "## fp32 against bf16 (same 8 seeds and rates, 15 epochs, 9,000 training images)"
  say ""
  cat "$out/accuracy.md" >>"$results" 2>/dev/null
fi
if want python && [[ -f bench/reference/epoch_bench.py ]]; then
  run python 400 python3 bench/reference/epoch_bench.py --device cuda --batch 128 --repeats 3 \
      --deterministic 0 --data "$full"
  say ""
  say "## Python PyTorch reference, one trial (bench/reference/epoch_bench.py)"
  say ""
  { echo '```'; tail -n 25 "$out/python.log"; echo '```'; } >>"$results"
fi

# --- the reference study ------------------------------------------------------
if want study; then
  epochs=${LRTUNE_STUDY_EPOCHS:-2}
  extra=()
  ((epochs > 0)) && extra=(--epochs "$epochs")
  # Packs when this build's study runner has them; else several processes share the GPU.
  if "$bin" study run --help 2>/dev/null | grep -q -- '--pack'; then
    extra+=(--pack 0)
  else
    extra+=(--jobs 6 --threads-per-job 2)
  fi
  say ""
  say "## Reference study (${epochs/#0/shipped} epochs per trial; flags: ${extra[*]:-none})"
  # The five parts side by side: one process each, sharing the GPU.
  t0=$SECONDS
  for f in studies/reference/*.toml; do
    name=$(basename "$f" .toml)
    run "study-$name" 600 "$bin" study run "$f" --device cuda --data "$full" \
        --out "$work/studies/$name" "${extra[@]}" &
  done
  wait
  say "- all parts: $((SECONDS - t0)) s wall"
fi
say ""
say "Logs: $out"
