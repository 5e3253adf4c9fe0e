#!/usr/bin/env python3
"""Writes `tensors` data set files with Python's torch.save, as a user would.

    make_tensors.py FILE VARIANT     one file
    make_tensors.py DIR              every variant, as DIR/VARIANT.pt

VARIANT: nchw, nhwc or grey (the same 3-class images in each layout: image i
of class i % 3 has every pixel of channel c equal to (7 * i + c) % 256), or a
damaged file: float_images, rank5, no_test_labels, label_too_big,
count_mismatch, classes_not_strings, not_a_dict.
"""
import sys

import torch


def images(n, channels):
    i = torch.arange(n).view(n, 1, 1, 1)
    c = torch.arange(channels).view(1, channels, 1, 1)
    return ((7 * i + c) % 256).expand(n, channels, 6, 5).to(torch.uint8).contiguous()


def main(path, variant):
    channels = 1 if variant == "grey" else 3
    d = {
        "train_images": images(12, channels),
        "train_labels": torch.arange(12) % 3,
        "test_images": images(6, channels),
        "test_labels": torch.arange(6) % 3,
        "classes": ["circle", "square", "star"],
    }
    if variant == "nhwc":
        for k in ("train_images", "test_images"):
            d[k] = d[k].permute(0, 2, 3, 1)  # saved as the view it is
    elif variant == "grey":
        for k in ("train_images", "test_images"):
            d[k] = d[k][:, 0]  # [N, H, W]
    elif variant == "float_images":
        d["train_images"] = d["train_images"].float() / 255
    elif variant == "rank5":
        d["test_images"] = d["test_images"].unsqueeze(0)
    elif variant == "no_test_labels":
        del d["test_labels"]
    elif variant == "label_too_big":
        d["train_labels"][4] = 3
    elif variant == "count_mismatch":
        d["train_labels"] = d["train_labels"][:11]
    elif variant == "classes_not_strings":
        d["classes"] = [0, 1, 2]
    elif variant == "not_a_dict":
        d = d["train_images"]
    else:
        assert variant == "nchw", variant
    torch.save(d, path)


VARIANTS = ["nchw", "nhwc", "grey", "float_images", "rank5", "no_test_labels", "label_too_big",
            "count_mismatch", "classes_not_strings", "not_a_dict"]

if __name__ == "__main__":
    if len(sys.argv) == 3:
        main(sys.argv[1], sys.argv[2])
    else:
        for v in VARIANTS:
            main(f"{sys.argv[1]}/{v}.pt", v)
