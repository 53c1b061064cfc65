"""Writes test/fixtures/autocast/mini_alexnet_bf16.json: PyTorch's bf16 autocast
(torch.autocast('cpu', dtype=torch.bfloat16): conv/linear outputs and the activations between
layers in bf16) for the narrow AlexNet-2012-shaped network of test/fixtures/golden/mini_alexnet.json,
with that file's parameters, input and labels: its output, loss and every parameter gradient.
test/native_bf16.test.ts holds the native backend's bf16 mode to these numbers.

Usage: /usr/bin/python3 scripts/make_autocast_fixtures.py   (Debian's python3-torch; run after
make_golden_fixtures.py)
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures')


class MiniAlexNet(nn.Module):
    """The network of make_golden_fixtures.py (AlexNet-2012's layer sequence at small widths)."""

    def __init__(self):
        super().__init__()
        lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
            nn.Conv2d(8, 12, 5, padding=2, groups=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
            nn.Conv2d(12, 16, 3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 16, 3, padding=1, groups=2), nn.ReLU(),
            nn.Conv2d(16, 8, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(32, 20), nn.ReLU(), nn.Linear(20, 5))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def tensor(o):
    return torch.tensor(o['data'], dtype=torch.float32).reshape(o['shape'])


def t(x):
    return {'shape': list(x.shape), 'data': [float(v) for v in x.detach().float().flatten().tolist()]}


with open(os.path.join(HERE, 'golden', 'mini_alexnet.json')) as f:
    golden = json.load(f)
m = MiniAlexNet()
m.load_state_dict({k: tensor(v) for k, v in golden['state_dict'].items()})
with torch.autocast('cpu', dtype=torch.bfloat16):
    out = m(tensor(golden['input']))
loss = F.cross_entropy(out.float(), torch.tensor(golden['labels']))
loss.backward()
doc = {'name': 'mini_alexnet_bf16_autocast', 'output': t(out.float()), 'loss': float(loss),
       'grads': {k: t(p.grad) for k, p in m.named_parameters()}}
os.makedirs(os.path.join(HERE, 'autocast'), exist_ok=True)
with open(os.path.join(HERE, 'autocast', 'mini_alexnet_bf16.json'), 'w') as f:
    json.dump(doc, f)
print('wrote mini_alexnet_bf16 (autocast)')
