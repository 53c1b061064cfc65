#!/usr/bin/python3
"""PyTorch side of the opt-in parity suite (test/parity/io_parity.test.ts; npm run test:parity).

  io_parity_torch.py make OUTDIR ARCH   full-size random-weight model of ARCH (alexnet,
      alexnet-v1, alexnet-2012) saved as w_zip.pth and w_legacy.pth, an input batch x.npy and
      its eval-mode output y.npy; labels.npy and grads.pth (gradients of every parameter after
      one cross-entropy forward/backward, dropout disabled); steps_x.npy / steps_y.npy and
      losses.npy (10 SGD steps, lr 0.01, momentum 0.9, weight decay 5e-4, dropout disabled).
  io_parity_torch.py check OURS REF     loads OURS with torch.load(weights_only=True) and prints
      a JSON line comparing it with the state dict in REF (keys, shapes, max |difference|).
  io_parity_torch.py onnxcheck FILE   runs onnx.checker (full check, with shape inference).

Uses Debian's python3-torch 1.13 / python3-torchvision 0.14.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import build as build_model  # noqa: E402  (the three AlexNets)


def build(arch):
    if arch not in ('alexnet', 'alexnet-v1', 'alexnet-2012'):
        raise SystemExit('unknown arch ' + arch)
    return build_model(arch), (224 if arch == 'alexnet' else 227)


def make(out, arch):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1234)
    model, size = build(arch)
    model.eval()  # no batch norm: eval() only turns dropout off
    sd = model.state_dict()
    torch.save(sd, os.path.join(out, 'w_zip.pth'))
    torch.save(sd, os.path.join(out, 'w_legacy.pth'), _use_new_zipfile_serialization=False)
    batch = 2
    x = torch.randn(batch, 3, size, size)
    np.save(os.path.join(out, 'x.npy'), x.numpy())
    with torch.no_grad():
        np.save(os.path.join(out, 'y.npy'), model(x).numpy())
    labels = torch.tensor([3, 917])
    np.save(os.path.join(out, 'labels.npy'), labels.numpy())
    loss = torch.nn.functional.cross_entropy(model(x), labels)
    loss.backward()
    torch.save({k: p.grad for k, p in model.named_parameters()}, os.path.join(out, 'grads.pth'))
    model.zero_grad()
    steps_x = torch.randn(10, batch, 3, size, size)
    steps_y = torch.randint(0, 1000, (10, batch))
    np.save(os.path.join(out, 'steps_x.npy'), steps_x.numpy())
    np.save(os.path.join(out, 'steps_y.npy'), steps_y.numpy())
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    losses = []
    for i in range(10):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(steps_x[i]), steps_y[i])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.save(os.path.join(out, 'losses.npy'), np.array(losses, dtype=np.float64))


def check(ours, ref):
    a = torch.load(ours, weights_only=True)
    b = torch.load(ref)
    if 'state_dict' in b and isinstance(b['state_dict'], dict):
        b = b['state_dict']
    result = {'type': type(a).__name__, 'keys_equal': list(a.keys()) == list(b.keys()), 'max_abs_diff': 0.0, 'shapes_equal': True}
    for k in b:
        if k not in a:
            continue
        if a[k].shape != b[k].shape:
            result['shapes_equal'] = False
            continue
        result['max_abs_diff'] = max(result['max_abs_diff'], (a[k].float() - b[k].float()).abs().max().item() if a[k].numel() else 0.0)
    print(json.dumps(result))


def onnxcheck(path):
    import onnx
    onnx.checker.check_model(onnx.load(path), full_check=True)
    print('ok')


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'make':
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == 'check':
        check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == 'onnxcheck':
        onnxcheck(sys.argv[2])
    else:
        raise SystemExit(__doc__)
