# PyTorch side of bench/compare.ts: median seconds per iteration of AlexNet inference or one
# training step (cross-entropy, backward, SGD with momentum), f32 or bf16 autocast, with the
# given number of threads. Prints one JSON object.
#   python3 bench/torch_bench.py ARCH BATCH MODE PRECISION THREADS WARMUP ITERS
# ARCH 'd2l' is the textbook's Fashion-MNIST model (alexnet-v1 layers, 1×224×224 input, FC6 of
# 256·5·5, 10 classes) with plain SGD (lr 0.01), as `alexnet train --preset d2l` trains it.
import json
import statistics
import sys
import time

import os

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'scripts'))
from torch_models import AlexNetV1, build  # noqa: E402  (the three AlexNets, as the library defines them)


def main():
    arch, batch, mode, precision, threads, warmup, iters = sys.argv[1:8]
    batch, threads, warmup, iters = int(batch), int(threads), int(warmup), int(iters)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if arch not in ('alexnet', 'alexnet-v1', 'alexnet-2012', 'd2l'):
        raise SystemExit(f'torch_bench: unsupported arch {arch}')
    bf16 = precision == 'bf16'
    if arch == 'd2l':
        model = AlexNetV1(num_classes=10, in_channels=1, fc_in=256 * 5 * 5)
        x = torch.randn(batch, 1, 224, 224)
        y = torch.randint(0, 10, (batch,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
    else:
        model, size = build(arch), (224 if arch == 'alexnet' else 227)
        x = torch.randn(batch, 3, size, size)
        y = torch.randint(0, 1000, (batch,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def step():
        if mode == 'infer':
            model.eval()
            with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
                model(x)
        else:
            model.train()
            opt.zero_grad()
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    print(json.dumps({'arch': arch, 'batch': batch, 'mode': mode, 'precision': precision, 'threads': threads,
                      'backend': f'pytorch {torch.__version__}', 'img_per_s': batch * 1000 / ms, 'ms_per_iter': ms}))


main()
