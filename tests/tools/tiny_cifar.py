#!/usr/bin/env python3
"""Writes a tiny CIFAR-10 binary folder that is the same bytes on every machine
and Python 3 version: data_batch_1..5.bin with PER_FILE records each and
test_batch.bin with N_TEST, labels cycling 0..9, pixels from random.Random(SEED)
with a class-dependent brightness so that a network has something to learn.

    tiny_cifar.py DIR [PER_FILE] [N_TEST] [SEED]
"""
import os
import random
import sys


def write(path, n, rng):
    with open(path, "wb") as f:
        for i in range(n):
            label = i % 10
            f.write(bytes([label]))
            lift = 12 * label
            f.write(bytes(min(255, rng.getrandbits(7) + lift) for _ in range(3 * 32 * 32)))


def main():
    folder = sys.argv[1]
    per_file = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    n_test = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    os.makedirs(folder, exist_ok=True)
    for k in range(1, 6):
        write(os.path.join(folder, f"data_batch_{k}.bin"), per_file, rng)
    write(os.path.join(folder, "test_batch.bin"), n_test, rng)


if __name__ == "__main__":
    main()
