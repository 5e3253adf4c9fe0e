#!/usr/bin/env python3
"""Tiny CIFAR-10 binary files for the test scripts (chaos.sh, cluster_faults.sh,
slurm_test.sh): 1 label byte + 3072 pixel bytes per record; each class has its
own mean colour, plus noise, so a network learns it within a few epochs.

usage: tiny_cifar.py OUT [PER_FILE [TEST]]   (defaults 100 and 100)
Writes OUT/data_batch_1..5.bin with PER_FILE images each and
OUT/test_batch.bin with TEST images; the same bytes every time."""
import os
import random
import sys


def main():
    if not 2 <= len(sys.argv) <= 4:
        sys.exit(__doc__)
    out = sys.argv[1]
    per_file = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    n_test = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20240101)
    means = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (200, 40, 200),
             (40, 200, 200), (120, 120, 120), (230, 140, 60), (60, 140, 230), (140, 60, 140)]
    # noise byte b -> clamp(mean + b/2 - 64), per (class, channel)
    tables = [[bytes(max(0, min(255, m + b // 2 - 64)) for b in range(256)) for m in mc]
              for mc in means]

    def write(path, n):
        with open(path, "wb") as f:
            for i in range(n):
                label = i % 10
                f.write(bytes([label]))
                for c in range(3):
                    f.write(rng.randbytes(1024).translate(tables[label][c]))

    for k in range(1, 6):
        write(os.path.join(out, f"data_batch_{k}.bin"), per_file)
    write(os.path.join(out, "test_batch.bin"), n_test)


if __name__ == "__main__":
    main()
