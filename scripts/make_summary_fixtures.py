"""Writes test/fixtures/summary/*.txt: what torchsummary 1.5.1 prints for the three AlexNets.

Usage: TORCHSUMMARY_PATH=/path/containing/torchsummary /usr/bin/python3 scripts/make_summary_fixtures.py
(torchsummary is not packaged by Debian; point TORCHSUMMARY_PATH at a checkout of
the sksq96/pytorch-summary repository at its v1.5.1 commit b50f213, the version that
`pip install torchsummary` gives. Nothing of it is kept in this repository.)
"""
import contextlib
import io
import os
import sys

sys.path.insert(0, os.environ.get('TORCHSUMMARY_PATH', ''))
sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402
from torchsummary import summary  # noqa: E402
from torch_models import build  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'summary')
CASES = [
    ('alexnet', (3, 224, 224), -1),
    ('alexnet', (3, 227, 227), -1),
    ('alexnet', (3, 63, 63), -1),
    ('alexnet-v1', (3, 227, 227), -1),
    ('alexnet-2012', (3, 227, 227), -1),
    ('alexnet', (3, 224, 224), 16),
]

os.makedirs(OUT, exist_ok=True)
for arch, size, batch in CASES:
    torch.manual_seed(0)
    model = build(arch)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        summary(model, size, batch_size=batch, device='cpu')
    name = f"{arch}_{'x'.join(map(str, size))}" + (f'_b{batch}' if batch != -1 else '') + '.txt'
    with open(os.path.join(OUT, name), 'w') as f:
        f.write(buf.getvalue())
    print('wrote', name)
