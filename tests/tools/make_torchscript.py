"""TorchScript networks for tests/model/torchscript_test.cpp, saved the ways
users save them (Debian's python3-torch, the same 1.13 as our LibTorch).

usage: make_torchscript.py OUT_DIR CHANNELS SIZE CLASSES

Writes, for images CHANNELS x SIZE x SIZE and CLASSES classes:
  scripted.pt  torch.jit.script of a small CNN with batch norm and dropout
               that flattens with view() (which channels-last input refuses)
  traced.pt    torch.jit.trace of the same network
  wrong.pt     a network with one output too few
  put.pt       a network whose forward uses Tensor.put_, which has no
               deterministic kernel on the CPU
  reference.pt lrtune's reference CNN written in PyTorch, without dropout,
               its parameters named as lrtune's (conv1..conv3, fc1, fc2)
  no_forward.pt a scripted module without a forward method
"""
import sys

import torch
from torch import nn


class SmallCnn(nn.Module):
    def __init__(self, channels: int, size: int, classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(8 * (size // 2) * (size // 2), classes)

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return self.fc(self.drop(x))


class ReferenceCnn(nn.Module):
    """lrtune's reference CNN (src/model/reference_cnn.h), dropout p."""

    def __init__(self, channels: int, size: int, classes: int, p: float):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * (size // 8) * (size // 8), 500)
        self.fc2 = nn.Linear(500, classes)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv3(x)), 2)
        x = self.drop(x.reshape(x.size(0), -1))
        x = self.drop(torch.relu(self.fc1(x)))
        return self.fc2(x)


class NoForward(nn.Module):
    @torch.jit.export
    def predict(self, x):
        return x


class Put(nn.Module):
    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        y = self.inner(x)
        mask = torch.zeros(y.numel())
        mask.put_(torch.tensor([0]), torch.tensor([1.0]))
        return y + mask.view(y.shape) * 0


def main():
    out, channels, size, classes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(0)
    net = SmallCnn(channels, size, classes)
    torch.jit.script(net).save(f"{out}/scripted.pt")
    net.eval()
    torch.jit.trace(net, torch.zeros(2, channels, size, size)).save(f"{out}/traced.pt")
    net.train()
    torch.jit.script(SmallCnn(channels, size, classes - 1)).save(f"{out}/wrong.pt")
    torch.jit.script(Put(SmallCnn(channels, size, classes))).save(f"{out}/put.pt")
    torch.jit.script(ReferenceCnn(channels, size, classes, 0.0)).save(f"{out}/reference.pt")
    torch.jit.script(NoForward()).save(f"{out}/no_forward.pt")


if __name__ == "__main__":
    main()
