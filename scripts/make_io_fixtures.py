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
import sys

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


if __name__ == '__main__':
    npy_fixtures()
    print('fixtures written to', os.path.normpath(OUT))
