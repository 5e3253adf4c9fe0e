#!/usr/bin/env bash
# Load time and peak memory of the data set kinds (docs/datasets.md):
#   bench/dataset_load.sh [CIFAR10_DIR]
# CIFAR-10 from CIFAR10_DIR (default ../shared/data/cifar-10-batches-bin),
# Fashion-MNIST from Debian's package, and an image folder of CIFAR-10's
# 60,000 images written out as PNG files (by PIL, into a temporary folder):
# its first load decodes, the next ones read the cache. Needs build/ with
# the benchmarks and python3-pil.
set -euo pipefail
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cifar=${1:-$repo_root/../shared/data/cifar-10-batches-bin}
bench=$repo_root/build/bench/lrtune_dataset_bench
[[ -x $bench ]] || bench=$repo_root/build/lrtune_dataset_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bench" --dataset cifar10 --data "$cifar"
"$bench" --dataset fashion_mnist
/usr/bin/python3 - "$cifar" "$work/cifar-png" <<'PY'
import os, sys
from PIL import Image
src, root = sys.argv[1], sys.argv[2]
names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
files = [("train", f"data_batch_{k}.bin") for k in range(1, 6)] + [("test", "test_batch.bin")]
n = 0
for part, name in files:
    raw = open(os.path.join(src, name), "rb").read()
    for i in range(len(raw) // 3073):
        rec = raw[i * 3073:(i + 1) * 3073]
        folder = os.path.join(root, part, names[rec[0]])
        os.makedirs(folder, exist_ok=True)
        planes = rec[1:]
        img = Image.merge("RGB", [Image.frombytes("L", (32, 32), planes[c * 1024:(c + 1) * 1024]) for c in range(3)])
        img.save(os.path.join(folder, f"{n:05d}.png"))
        n += 1
print(f"wrote {n} PNG files, {sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs) / 1e6:.0f} MB")
PY
"$bench" --dataset image_folder --data "$work/cifar-png" --channels 3 --fresh-cache --repeats 1
"$bench" --dataset image_folder --data "$work/cifar-png" --channels 3 --repeats 3
