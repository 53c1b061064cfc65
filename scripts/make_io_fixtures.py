#!/usr/bin/python3
"""Writes the small committed fixtures for the io tests (test/fixtures/io/).

Run with Debian's python3-torch 1.13:  /usr/bin/python3 scripts/make_io_fixtures.py
Every fixture is deterministic (fixed seeds) and tiny; expected values are stored beside the
inputs as .npy files (C order float32/float64/int64) or JSON so the TypeScript tests need no
Python. See test/io_*.test.ts for what each file checks.
"""
import json
import os
import pickle
from collections import OrderedDict

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'io')


def npy_fixtures():
    d = os.path.join(OUT, 'npy')
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    np.save(os.path.join(d, 'f4_c.npy'), a)
    np.save(os.path.join(d, 'f4_fortran.npy'), np.asfortranarray(a))
    np.save(os.path.join(d, 'f4_big_endian.npy'), a.astype('>f4'))
    np.save(os.path.join(d, 'f8_fortran_2d.npy'), np.asfortranarray(rng.standard_normal((3, 5))))
    np.save(os.path.join(d, 'i8.npy'), np.array([-3, 0, 2**40, 7], dtype=np.int64))
    np.save(os.path.join(d, 'i4.npy'), np.arange(-4, 8, dtype=np.int32).reshape(3, 4))
    np.save(os.path.join(d, 'u1.npy'), np.arange(250, 256, dtype=np.uint8).reshape(2, 3))
    np.save(os.path.join(d, 'scalar_f8.npy'), np.array(2.5))
    np.save(os.path.join(d, 'empty_f4.npy'), np.zeros((0, 3), dtype=np.float32))
    # Expected values, written as plain JSON (C order).
    expect = {
        'f4_c': {'shape': [2, 3, 4], 'data': a.ravel().tolist()},
        'f8_fortran_2d': {'shape': [3, 5], 'data': np.load(os.path.join(d, 'f8_fortran_2d.npy')).ravel(order='C').tolist()},
    }
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump(expect, f)


def tensor_fixture_dict():
    """A small state dict exercising every storage layout the readers must handle."""
    import torch
    torch.manual_seed(0)
    shared = torch.randn(20)
    base = torch.randn(12)
    sd = OrderedDict()
    sd['conv.weight'] = torch.randn(4, 3, 3, 3)
    sd['conv.bias'] = torch.randn(4)
    sd['transposed'] = torch.randn(3, 5).t()              # non-contiguous strides (1, 5)
    sd['offset_view'] = base[2:8].view(2, 3)              # storage offset 2
    sd['shared_a'] = shared[:10].view(2, 5)               # two views of one storage
    sd['shared_b'] = shared[10:]
    sd['expanded'] = torch.randn(3, 1).expand(3, 4)       # stride 0
    sd['half'] = torch.randn(2, 3).half()
    sd['bf16'] = torch.randn(5).bfloat16()
    sd['double'] = torch.randn(2, 2).double()
    sd['long'] = torch.tensor([3, -1, 7], dtype=torch.int64)
    sd['scalar'] = torch.tensor(1.25)
    sd['empty'] = torch.zeros(0, 4)
    return sd


def expected_of(sd):
    return {k: {'shape': list(v.shape), 'data': v.float().contiguous().view(-1).tolist()} for k, v in sd.items()}


class System:
    """Pickles as a call of os.system (posix.system on Linux): what a malicious .pth does."""
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class Eval:
    def __init__(self, src):
        self.src = src

    def __reduce__(self):
        import builtins
        return (builtins.eval, (self.src,))


def pth_fixtures():
    import torch
    d = os.path.join(OUT, 'pth')
    os.makedirs(d, exist_ok=True)
    sd = tensor_fixture_dict()
    torch.save(sd, os.path.join(d, 'state_zip.pth'))
    torch.save(sd, os.path.join(d, 'state_legacy.pth'), _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(d, 'state_zip_proto4.pth'), pickle_protocol=4)
    # A training checkpoint: state dict under 'state_dict', optimizer state with int keys.
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    msd = model.state_dict()
    torch.save({'epoch': 3, 'arch': 'tiny', 'state_dict': msd, 'optimizer': opt.state_dict(), 'best_acc1': 0.5},
               os.path.join(d, 'checkpoint_zip.pth'))
    torch.save({'meta': {'note': 'nested'}, 'model': {'state_dict': msd}},
               os.path.join(d, 'checkpoint_nested_legacy.pth'), _use_new_zipfile_serialization=False)
    # Parameters (not detached tensors) pickle through torch._utils._rebuild_parameter.
    params = OrderedDict((k, torch.nn.Parameter(v)) for k, v in msd.items())
    torch.save(params, os.path.join(d, 'parameters_zip.pth'))
    # Malicious files: a pickle that would run a shell command if executed.
    marker = '/tmp/alexnet_io_fixture_pwned'
    torch.save({'weight': torch.ones(2), 'payload': System('touch ' + marker)}, os.path.join(d, 'malicious_system_zip.pth'))
    torch.save({'payload': System('touch ' + marker)}, os.path.join(d, 'malicious_system_legacy.pth'),
               _use_new_zipfile_serialization=False)
    torch.save({'payload': Eval('open("%s", "w")' % marker)}, os.path.join(d, 'malicious_eval_zip.pth'))
    expect = {'state': expected_of(sd), 'checkpoint': expected_of(msd), 'marker': marker}
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump(expect, f)


def safetensors_fixtures():
    """Written by hand (the safetensors package is not in Debian bookworm): the format is a
    u64 header length, a JSON header and the raw little-endian data."""
    import struct
    import torch
    d = os.path.join(OUT, 'safetensors')
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(2)
    tensors = OrderedDict()
    tensors['w'] = torch.randn(3, 4)
    tensors['h'] = torch.randn(5).half()
    tensors['b'] = torch.randn(2, 2).bfloat16()
    tensors['d'] = torch.randn(3).double()
    tensors['i'] = torch.tensor([1, -2], dtype=torch.int64)
    tensors['s'] = torch.tensor(0.5)
    names = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64', torch.int64: 'I64'}
    header = {'__metadata__': {'format': 'pt', 'source': 'make_io_fixtures.py'}}
    data = b''
    for k, v in tensors.items():
        raw = (v.view(torch.int16) if v.dtype == torch.bfloat16 else v).contiguous().numpy().tobytes()
        header[k] = {'dtype': names[v.dtype], 'shape': list(v.shape), 'data_offsets': [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(os.path.join(d, 'basic.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + data)
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump({'tensors': expected_of(tensors), 'metadata': header['__metadata__']}, f)


if __name__ == '__main__':
    npy_fixtures()
    pth_fixtures()
    safetensors_fixtures()
    print('fixtures written to', os.path.normpath(OUT))
