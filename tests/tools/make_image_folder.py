#!/usr/bin/env python3
"""Writes a small image folder with PIL, as a user's own images would be.

    make_image_folder.py ROOT LAYOUT

standard: train/cat holds three 40x30 RGB PNGs and one 20x20 JPEG, all of
colour (200, 10, 10), and a README.txt that is not an image; train/dog three
24x24 grey PNGs of value 100 and one RGBA PNG of (10, 10, 200, 255);
test/cat one such PNG, test/dog one grey JPEG of value 100.
nosplit: train/a and train/b with ten 8x8 RGB PNGs each, no test folder.
"""
import os
import sys

from PIL import Image


def save(img, *path, **kw):
    os.makedirs(os.path.dirname(os.path.join(*path)), exist_ok=True)
    img.save(os.path.join(*path), **kw)


def standard(root):
    red = Image.new("RGB", (40, 30), (200, 10, 10))
    for i in range(3):
        save(red, root, "train", "cat", f"red{i}.png")
    save(Image.new("RGB", (20, 20), (200, 10, 10)), root, "train", "cat", "small.JPG", quality=95)
    with open(os.path.join(root, "train", "cat", "README.txt"), "w") as f:
        f.write("not an image\n")
    for i in range(3):
        save(Image.new("L", (24, 24), 100), root, "train", "dog", f"grey{i}.png")
    save(Image.new("RGBA", (24, 24), (10, 10, 200, 255)), root, "train", "dog", "blue.png")
    save(red, root, "test", "cat", "red.png")
    save(Image.new("L", (24, 24), 100), root, "test", "dog", "grey.jpeg", quality=95)


def nosplit(root):
    for c, colour in (("a", (250, 0, 0)), ("b", (0, 0, 250))):
        for i in range(10):
            save(Image.new("RGB", (8, 8), colour), root, "train", c, f"{i:02d}.png")


if __name__ == "__main__":
    {"standard": standard, "nosplit": nosplit}[sys.argv[2]](sys.argv[1])
