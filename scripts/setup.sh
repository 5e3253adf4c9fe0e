#!/usr/bin/env bash
# Installs everything lrtune needs to build, test and run on Debian 12.
# `--bench` adds what the benchmarks in bench/ need: Debian's Python PyTorch (the
# same LibTorch 1.13 as libtorch-dev) for bench/reference/. `--fuzz` adds clang
# and libFuzzer for scripts/fuzz.sh (docs/fuzzing.md).
# Idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-openmp     # BLAS for LibTorch; the OpenMP build shares LibTorch's threads
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libsqlite3-dev
  zlib1g-dev              # gzipped IDX files (the mnist and fashion_mnist data sets)
  dataset-fashion-mnist   # the real Fashion-MNIST: the fashion_mnist kind's default folder
  libpng-dev libturbojpeg0-dev  # the image_folder data set's PNG and JPEG decoders
  libzip-dev              # the tensors data set: checks torch.save's zip archive before LibTorch reads it
  python3-torch           # tests: the tensors data set reads files written by Python's torch.save
  python3-pil             # tests: image folders of PNG and JPEG files written by PIL
  python3-torchvision     # tests: torchvision's ResNet-18 is the peer of the resnet18 model
  libpqxx-dev             # the PostgreSQL results store (libpqxx 6.4 over libpq)
  postgresql              # tests: throw-away PostgreSQL servers
  slurmctld               # tests: a one-node Slurm of the test's own (scripts/slurm_test.sh), its controller
  slurmd                  # tests: ... and its compute node daemon
  slurm-client            # tests: sbatch, squeue, sinfo, scontrol, scancel
  munge                   # tests: munged, mungekey, munge and unmunge (Slurm's authentication)
  libgtest-dev libgmock-dev
  curl ca-certificates    # `lrtune data download`
  gnuplot-nox             # `lrtune report` figures (pngcairo and svg terminals)
  nodejs                  # npm ci: the charting library inlined into index.html
  chromium                # tests: index.html loads and draws in a headless browser
  libxml2-utils           # tests: xmllint checks that every SVG figure parses
  fonts-dejavu-core       # legible text in figures and screenshots
  python3                 # tests: the function-length check, fixture scripts
  libprotobuf-dev         # TensorBoard event files: protobuf messages (lrtune export tensorboard)
  protobuf-compiler       # protoc: generates them at build time; tests decode events with it
  libboost-dev            # Boost.CRC: CRC-32C of event-file records
  python3-crcmod          # tests: an independent CRC-32C check of event files
  python3-optuna          # tests: Optuna 3.1 loads `lrtune export optuna` journals, and its TPE estimator
  python3-scipy           # tests: scipy's truncated normal, the reference density of that estimator
  python3-matplotlib python3-sklearn  # tests: Optuna's plots (param importances fit a forest)
)
for option in "$@"; do
  case $option in
    --bench)
      packages+=(
        python3-numpy           # bench/reference/epoch_bench.py: PyTorch on the same libtorch_cpu.so
      )
      ;;
    --fuzz)
      packages+=(
        clang-14 libfuzzer-14-dev  # scripts/fuzz.sh: libFuzzer programs of fuzz/ (ASan, UBSan)
        libomp-14-dev              # OpenMP for clang (the build's -fopenmp)
      )
      ;;
    *)
      echo "usage: scripts/setup.sh [--bench] [--fuzz]" >&2
      exit 2
      ;;
  esac
done
# Debian's nodejs comes without npm; a NodeSource nodejs brings its own.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "setup: all packages present"

# JavaScript for the report page, pinned by package-lock.json (node_modules/ is
# ignored). `npm ci` only when the installed copy differs from the lock file.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! (cd "$repo_root" && node -e '
  const lock = require("./package-lock.json").packages;
  for (const [dir, p] of Object.entries(lock)) {
    if (!dir) continue;
    if (require("./" + dir + "/package.json").version !== p.version) process.exit(1);
  }' 2>/dev/null); then
  (cd "$repo_root" && npm ci --no-audit --no-fund)
fi
echo "setup: node_modules matches package-lock.json"
