"""Writes test/fixtures/golden/repr_<arch>.txt: what PyTorch's print(model) shows for the three AlexNets.

Usage: /usr/bin/python3 scripts/make_repr_fixtures.py (Debian's python3-torch and python3-torchvision).
'alexnet' is torchvision's; the other two are the definitions in scripts/torch_models.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import build  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'golden')

os.makedirs(OUT, exist_ok=True)
for arch in ('alexnet', 'alexnet-v1', 'alexnet-2012'):
    with open(os.path.join(OUT, f'repr_{arch}.txt'), 'w') as f:
        f.write(repr(build(arch)) + '\n')
