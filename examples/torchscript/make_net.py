"""Saves a small CNN for Fashion-MNIST (1x28x28 images, 10 classes) as
TorchScript, for lrtune's `model = "torchscript"`.

usage: python3 make_net.py [OUT.pt]      (default: net.pt)

Any torch.nn.Module works the same way: lrtune feeds float batches
[batch, channels, height, width] and expects logits [batch, classes].
"""
import sys

import torch
from torch import nn


class FashionNet(nn.Module):
    """Two convolution blocks with batch norm, then dropout and a linear layer."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Dropout(0.25), nn.Linear(64 * 7 * 7, classes))

    def forward(self, x):
        x = self.features(x)
        # flatten (a reshape), not view: it takes channels-last activations,
        # so lrtune can feed the CPU's faster channels-last batches.
        return self.classifier(torch.flatten(x, 1))


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "net.pt"
    torch.jit.script(FashionNet()).save(out)
    print(f"saved {out}")
