#!/usr/bin/env bash
# Installs what the benchmarks in bench/ need on top of scripts/setup.sh: Debian's
# Python PyTorch (the same LibTorch 1.13 as libtorch-dev) for bench/reference/.
# Idempotent: packages already present are left as they are.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/setup.sh"

packages=(
  python3-torch   # bench/reference/epoch_bench.py: PyTorch on the same libtorch_cpu.so
  python3-numpy
  linux-perf      # optional: `perf record` of an epoch (docs/performance.md)
)
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
echo "setup-bench: all packages present"
