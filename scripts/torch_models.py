"""The three AlexNets (torchvision's, the paper's widths in one tower, the paper exactly) as PyTorch modules, for the fixture generators.

Run with Debian's python3-torch (/usr/bin/python3). `build(arch, **opts)` mirrors the
library's createModel(arch, opts): same module trees, same state-dict keys.
"""
import torch
import torch.nn as nn
import torchvision


class AlexNetV1(nn.Module):
    """The paper's widths in one tower (conv / fc_layer), 227 input."""

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.5, fc_in=256 * 6 * 6):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, 96, 11, stride=4, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.fc_layer = nn.Sequential(
            nn.Linear(fc_in, 4096), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.conv(x)
        x = x.view(x.size(0), -1)
        return self.fc_layer(x)


class AlexNet2012(nn.Module):
    """The paper exactly: LRN, two towers as groups=2, dropout after FC6/FC7 ReLU."""

    def __init__(self, num_classes=1000, in_channels=3, dropout=0.5, fc_in=9216):
        super().__init__()
        lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, 11, stride=4), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.classifier = nn.Sequential(
            nn.Linear(fc_in, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def build(arch, num_classes=1000, in_channels=3, dropout=0.5):
    if arch == 'alexnet':
        m = torchvision.models.alexnet(num_classes=num_classes, dropout=dropout)
        if in_channels != 3:
            m.features[0] = nn.Conv2d(in_channels, 64, 11, stride=4, padding=2)
        return m
    if arch == 'alexnet-v1':
        return AlexNetV1(num_classes, in_channels, dropout)
    if arch == 'alexnet-2012':
        return AlexNet2012(num_classes, in_channels, dropout)
    raise ValueError(arch)
