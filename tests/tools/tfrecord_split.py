#!/usr/bin/python3
"""Splits a TFRecord file (TensorBoard event file) into its records, checking
both masked CRC-32Cs of each with crcmod, independently of lrtune's code.

usage: tfrecord_split.py FILE OUTDIR
Writes OUTDIR/record-0000.bin, ... (each record's data bytes) and prints the
number of records. Exits 1 naming the record on a torn record or a bad CRC,
3 when crcmod is missing (Debian: python3-crcmod).
"""
import os
import struct
import sys

try:
    import crcmod.predefined
except ImportError:
    print("crcmod not installed (Debian: python3-crcmod)", file=sys.stderr)
    sys.exit(3)

crc32c = crcmod.predefined.mkCrcFun("crc-32c")


def masked(data):
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def main(path, outdir):
    with open(path, "rb") as f:
        blob = f.read()
    os.makedirs(outdir, exist_ok=True)
    at, n = 0, 0
    while at < len(blob):
        if at + 12 > len(blob):
            sys.exit(f"record {n}: torn header at byte {at}")
        header = blob[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", blob[at + 8:at + 12])
        if length_crc != masked(header):
            sys.exit(f"record {n}: bad length CRC at byte {at}")
        data = blob[at + 12:at + 12 + length]
        if len(data) != length or at + 16 + length > len(blob):
            sys.exit(f"record {n}: torn data at byte {at}")
        (data_crc,) = struct.unpack("<I", blob[at + 12 + length:at + 16 + length])
        if data_crc != masked(data):
            sys.exit(f"record {n}: bad data CRC at byte {at}")
        with open(os.path.join(outdir, "record-%04d.bin" % n), "wb") as out:
            out.write(data)
        at += 16 + length
        n += 1
    print(n)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
