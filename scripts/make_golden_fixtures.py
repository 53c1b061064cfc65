"""Writes test/fixtures/golden/*.json: PyTorch's forward outputs and gradients for each op
AlexNet uses, and for a narrow AlexNet-2012-shaped network (every layer type, small widths),
so that test/golden.test.ts can check the library against torch without Python.

Usage: /usr/bin/python3 scripts/make_golden_fixtures.py   (Debian's python3-torch)
Each file: {"name", "params", "inputs": {name: {"shape", "data"}}, "output": {...},
"grads": {name: {...}}}; the loss whose gradients are stored is sum(output * w_out), with
w_out stored as input "gy".
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'golden')
torch.manual_seed(1234)


def t(x):
    return {'shape': list(x.shape), 'data': [float(v) for v in x.detach().double().flatten().tolist()]}


def case(name, params, inputs, fn, labels=None):
    for v in inputs.values():
        v.requires_grad_(True)
    out = fn(**inputs)
    gy = torch.randn_like(out)
    (out * gy).sum().backward()
    doc = {'name': name, 'params': params, 'inputs': {k: t(v) for k, v in inputs.items()},
           'gy': t(gy), 'output': t(out), 'grads': {k: t(v.grad) for k, v in inputs.items()}}
    if labels is not None:
        doc['labels'] = labels.tolist()
    with open(os.path.join(OUT, name + '.json'), 'w') as f:
        json.dump(doc, f)
    print('wrote', name)


os.makedirs(OUT, exist_ok=True)
r = torch.randn
case('conv2d_groups', {'stride': 2, 'padding': 1, 'groups': 2},
     {'x': r(2, 4, 9, 8), 'w': r(6, 2, 3, 3), 'b': r(6)},
     lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2))
case('conv2d_k11_s4', {'stride': 4, 'padding': 2, 'groups': 1},
     {'x': r(1, 3, 31, 31), 'w': r(4, 3, 11, 11), 'b': r(4)},
     lambda x, w, b: F.conv2d(x, w, b, stride=4, padding=2))
case('max_pool2d_3_2', {'kernel': 3, 'stride': 2, 'padding': 0, 'ceilMode': False},
     {'x': r(2, 3, 13, 13)}, lambda x: F.max_pool2d(x, 3, 2))
case('max_pool2d_ceil_pad', {'kernel': 3, 'stride': 2, 'padding': 1, 'ceilMode': True},
     {'x': r(1, 2, 10, 7)}, lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True))
case('adaptive_avg_pool2d', {'output': [6, 6]}, {'x': r(2, 3, 13, 9)}, lambda x: F.adaptive_avg_pool2d(x, (6, 6)))
case('lrn_paper', {'size': 5, 'alpha': 5e-4, 'beta': 0.75, 'k': 2.0},
     {'x': r(2, 7, 4, 3) * 3}, lambda x: F.local_response_norm(x, 5, alpha=5e-4, beta=0.75, k=2.0))
case('lrn_even', {'size': 4, 'alpha': 1e-2, 'beta': 0.5, 'k': 1.0},
     {'x': r(1, 6, 3, 3) * 3}, lambda x: F.local_response_norm(x, 4, alpha=1e-2, beta=0.5, k=1.0))
case('linear', {}, {'x': r(3, 10), 'w': r(5, 10), 'b': r(5)}, lambda x, w, b: F.linear(x, w, b))
case('log_softmax', {}, {'x': r(4, 7) * 3}, lambda x: F.log_softmax(x, 1))
labels = torch.tensor([3, 0, 6, 2])
case('cross_entropy', {}, {'x': r(4, 7) * 3}, lambda x: F.cross_entropy(x, labels).reshape(1), labels=labels)


class MiniAlexNet(nn.Module):
    """AlexNet-2012's layer sequence at small widths (mirrored in test/golden.test.ts)."""

    def __init__(self):
        super().__init__()
        lrn = lambda: nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 11, stride=4), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
            nn.Conv2d(8, 12, 5, padding=2, groups=2), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
            nn.Conv2d(12, 16, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(16, 16, 3, padding=1, groups=2), nn.ReLU(inplace=True),
            nn.Conv2d(16, 8, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.classifier = nn.Sequential(nn.Linear(32, 20), nn.ReLU(inplace=True), nn.Linear(20, 5))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


m = MiniAlexNet()
x = r(2, 3, 67, 67)
y = torch.tensor([1, 4])
out = m(x)
loss = F.cross_entropy(out, y)
loss.backward()
doc = {'name': 'mini_alexnet', 'input': t(x), 'labels': y.tolist(), 'output': t(out), 'loss': float(loss),
       'state_dict': {k: t(v) for k, v in m.state_dict().items()},
       'grads': {k: t(p.grad) for k, p in m.named_parameters()}}
with open(os.path.join(OUT, 'mini_alexnet.json'), 'w') as f:
    json.dump(doc, f)
print('wrote mini_alexnet')
