"""ResNet-18 in its CIFAR form from torchvision (3x3 stem, no max-pool), as
the peer of lrtune's resnet18: writes its state dict (batch-norm running
statistics set away from their initial values), an input and the network's
evaluation-mode output with torch.save, for tests/model/resnet_test.cpp.

usage: resnet18_reference.py OUT.pt
"""
import sys

import torch
import torchvision

torch.manual_seed(3)
net = torchvision.models.resnet18(weights=None, num_classes=10)
net.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
net.maxpool = torch.nn.Identity()
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.1)
            m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
            m.weight.copy_(torch.rand_like(m.weight) + 0.5)
            m.bias.copy_(torch.randn_like(m.bias) * 0.1)
net.eval()
x = torch.randn(2, 3, 32, 32)
with torch.no_grad():
    y = net(x)
state = {k: v for k, v in net.state_dict().items()}
torch.save({"state": state, "x": x, "y": y,
            "parameters": sum(p.numel() for p in net.parameters())}, sys.argv[1])
