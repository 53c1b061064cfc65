# PyTorch side of bench/compare.ts: median seconds per iteration of AlexNet inference or one
# training step (cross-entropy, backward, SGD with momentum), f32 or bf16 autocast, with the
# given number of threads. Prints one JSON object.
#   python3 bench/torch_bench.py ARCH BATCH MODE PRECISION THREADS WARMUP ITERS
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class AlexNetV1(nn.Module):
    """The paper's widths in one tower (DESIGN.md §2, alexnet-v1)."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 96, 11, stride=4, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
        self.fc_layer = nn.Sequential(
            nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(p=0.5),
            nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(p=0.5),
            nn.Linear(4096, num_classes))

    def forward(self, x):
        x = self.conv(x)
        x = x.view(x.size(0), -1)
        return self.fc_layer(x)


def main():
    arch, batch, mode, precision, threads, warmup, iters = sys.argv[1:8]
    batch, threads, warmup, iters = int(batch), int(threads), int(warmup), int(iters)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if arch == 'alexnet':
        model, size = torchvision.models.alexnet(), 224
    elif arch == 'alexnet-v1':
        model, size = AlexNetV1(), 227
    else:
        raise SystemExit(f'torch_bench: unsupported arch {arch}')
    bf16 = precision == 'bf16'
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
