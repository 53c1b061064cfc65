"""Writes test/fixtures/golden/nonfinite/nonfinite.json: PyTorch's forward outputs of each op
AlexNet uses on inputs holding NaN, +inf and -inf, so that test/conformance.test.ts can check
that every backend propagates them as torch does (a NaN input never turns into a finite logit).

Usage: /usr/bin/python3 scripts/make_nonfinite_fixtures.py   (Debian's python3-torch)
The file is a list of {"name", "params", "inputs": {name: {"shape", "data"}}, "output"}; JSON
has no NaN or infinities, so those values are written as the strings "NaN", "Infinity" and
"-Infinity" (JavaScript's Number() reads them back).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'golden', 'nonfinite')
torch.manual_seed(4321)
NAN, INF = float('nan'), float('inf')


def value(v):
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return 'Infinity' if v > 0 else '-Infinity'
    return v


def t(x):
    return {'shape': list(x.shape), 'data': [value(float(v)) for v in x.detach().double().flatten().tolist()]}


def poisoned(*shape, every=7):
    """Random values with NaN, +inf and -inf planted at a few places (and in both images)."""
    x = torch.randn(*shape)
    flat = x.view(-1)
    n = flat.numel()
    for i, v in enumerate([NAN, INF, -INF, NAN]):
        flat[(i * n) // 4 + every] = v
    return x


cases = []


def case(name, params, inputs, fn):
    cases.append({'name': name, 'params': params, 'inputs': {k: t(v) for k, v in inputs.items()},
                  'output': t(fn(**inputs))})


x4 = poisoned(2, 16, 9, 9)
case('relu', {}, {'x': x4}, lambda x: F.relu(x))
w = torch.randn(16, 16, 3, 3) * 0.2
b = torch.randn(16) * 0.1
case('conv2d_relu', {'stride': 2, 'padding': 1}, {'x': x4, 'w': w, 'b': b},
     lambda x, w, b: F.relu(F.conv2d(x, w, b, stride=2, padding=1)))
w5 = torch.randn(16, 8, 5, 5) * 0.1
case('conv2d_groups_relu', {'stride': 1, 'padding': 2, 'groups': 2}, {'x': x4, 'w': w5, 'b': b},
     lambda x, w, b: F.relu(F.conv2d(x, w, b, padding=2, groups=2)))
case('max_pool2d_3_2', {}, {'x': x4}, lambda x: F.max_pool2d(x, 3, 2))
case('max_pool2d_ceil_pad', {}, {'x': x4}, lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True))
case('adaptive_avg_pool2d', {}, {'x': x4}, lambda x: F.adaptive_avg_pool2d(x, 4))
case('lrn_paper', {'size': 5, 'alpha': 1e-4, 'beta': 0.75, 'k': 2.0}, {'x': x4},
     lambda x: F.local_response_norm(x, 5, 1e-4, 0.75, 2.0))
case('lrn_even', {'size': 4, 'alpha': 1e-3, 'beta': 0.75, 'k': 1.0}, {'x': x4},
     lambda x: F.local_response_norm(x, 4, 1e-3, 0.75, 1.0))
xl = poisoned(4, 40, every=3)
wl = torch.randn(24, 40) * 0.2
bl = torch.randn(24) * 0.1
case('linear_relu', {}, {'x': xl, 'w': wl, 'b': bl}, lambda x, w, b: F.relu(F.linear(x, w, b)))
case('linear_relu_row', {}, {'x': xl[1:2], 'w': wl, 'b': bl}, lambda x, w, b: F.relu(F.linear(x, w, b)))
logits = torch.randn(6, 5)
logits[0, 1] = NAN
logits[1, 2] = INF
logits[2, 3] = -INF
logits[3, :] = -INF
case('log_softmax', {}, {'x': logits}, lambda x: F.log_softmax(x, 1))
case('cross_entropy', {'labels': [1, 0]}, {'x': logits[1:3]}, lambda x: F.cross_entropy(x, torch.tensor([1, 0])).reshape(1))
case('cross_entropy_finite_row_with_neg_inf', {'labels': [4]}, {'x': logits[2:3]},
     lambda x: F.cross_entropy(x, torch.tensor([4])).reshape(1))

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, 'nonfinite.json'), 'w') as f:
    json.dump(cases, f)
print('wrote', len(cases), 'cases')
