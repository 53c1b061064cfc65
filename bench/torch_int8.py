# The PyTorch peer of `alexnet quantize` + `alexnet bench --precision int8`: PyTorch 1.13's eager
# post-training static quantization (fbgemm where the build has it — Debian's python3-torch has
# not, and gets its 'onednn' engine; per-channel symmetric s8 weights, per-tensor u8 activations,
# reduce_range on fbgemm, Conv/Linear+ReLU fused) of the same model, calibrated on the same
# images (the first N of Fashion-MNIST's training split, preprocessed as the model's model.json
# says, or random images for a random model); then batch-64 throughput and batch-1 latency of
# torch f32 and torch int8, beside ours (`alexnet bench` f32, bf16, int8), and with --eval the
# top-1 of torch f32 and int8 on the 10,000 test images. Prints one JSON object.
#
#   /usr/bin/python3 bench/torch_int8.py                       # torchvision alexnet, random weights, 224 input
#   /usr/bin/python3 bench/torch_int8.py --quick               # fewer iterations (proves it runs)
#   /usr/bin/python3 bench/torch_int8.py --weights runs/x/model.pth --eval [--ours-int8 M.safetensors]
#
# --observer minmax (default, as ours) or histogram (fbgemm's default qconfig).
import argparse
import copy
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'scripts'))
from torch_models import AlexNetV1, build  # noqa: E402  (the AlexNets with the library's state-dict keys)

ROOT = os.path.join(os.path.dirname(__file__), '..')
FMNIST = '/usr/share/datasets/fashion-mnist'


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def preprocess(images, transforms):
    """uint8 [N, 28, 28] → float [N, 1, S, S] as model.json's resize / toTensor / normalize say."""
    size, mean, std = None, 0.0, 1.0
    for t in transforms:
        if t['type'] == 'resize':
            size = t['size'][0] if isinstance(t['size'], list) else t['size']
        elif t['type'] == 'normalize':
            mean, std = t['mean'][0], t['std'][0]
    out = []
    for im in images:
        p = Image.fromarray(im)
        if size:
            p = p.resize((size, size), Image.BILINEAR)
        out.append((np.asarray(p, dtype=np.float32) / 255.0 - mean) / std)
    return torch.from_numpy(np.stack(out)[:, None])


class Quantizable(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.quant = torch.ao.quantization.QuantStub()
        self.model = model
        self.dequant = torch.ao.quantization.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.model(self.quant(x)))


def fuse_pairs(model):
    pairs = []
    for name, seq in model.named_modules():
        if isinstance(seq, nn.Sequential):
            mods = list(seq)
            for i in range(len(mods) - 1):
                if isinstance(mods[i], (nn.Conv2d, nn.Linear)) and isinstance(mods[i + 1], nn.ReLU):
                    pairs.append([f'{name}.{i}', f'{name}.{i + 1}'])
    return pairs


def quantize(model, calibration, observer, engine, batch=64):
    model.eval()
    q = Quantizable(copy.deepcopy(model))
    q.eval()
    torch.ao.quantization.fuse_modules(q.model, fuse_pairs(q.model), inplace=True)
    if observer == 'histogram':
        q.qconfig = torch.ao.quantization.get_default_qconfig(engine)
    else:
        q.qconfig = torch.ao.quantization.QConfig(
            activation=torch.ao.quantization.MinMaxObserver.with_args(reduce_range=engine == 'fbgemm'),
            weight=torch.ao.quantization.default_per_channel_weight_observer)
    torch.ao.quantization.prepare(q, inplace=True)
    with torch.no_grad():
        for i in range(0, len(calibration), batch):
            q(calibration[i:i + batch])
    torch.ao.quantization.convert(q, inplace=True)
    return q


def timed(model, x, warmup, iters):
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def top1(model, x, y, batch=256):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def ours(args_list):
    r = subprocess.run(['node', os.path.join(ROOT, 'bin', 'alexnet.js'), 'bench', *args_list, '--json'],
                       capture_output=True, text=True, env={**os.environ, 'ALEXNET_BACKEND': 'native'})
    if r.returncode != 0:
        return {'error': r.stderr.strip()}
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', help='f32 model.pth with model.json beside it (Fashion-MNIST model)')
    ap.add_argument('--arch', default='alexnet', help='random model when no --weights (default alexnet)')
    ap.add_argument('--calibration-images', type=int, default=1000)
    ap.add_argument('--observer', choices=['minmax', 'histogram'], default='minmax')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--eval', action='store_true', help='top-1 of f32 and int8 on the 10,000 test images (needs --weights)')
    ap.add_argument('--ours-int8', help='our quantized model file, timed with alexnet bench --precision int8 --weights')
    ap.add_argument('--quick', action='store_true')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    engines = torch.backends.quantized.supported_engines
    engine = next(e for e in ('fbgemm', 'onednn', 'qnnpack') if e in engines)
    torch.backends.quantized.engine = engine
    torch.manual_seed(0)
    warmup, iters = (1, 2) if a.quick else (2, 7)
    result = {'torch': torch.__version__, 'engine': engine, 'threads': a.threads, 'observer': a.observer, 'calibration_images': a.calibration_images}

    if a.weights:
        info = json.load(open(os.path.splitext(a.weights)[0] + '.json'))
        if info['arch'] != 'alexnet-v1':
            raise SystemExit('torch_int8: --weights supports the Fashion-MNIST alexnet-v1 models (quick start, d2l)')
        size, classes = info['inputSize'], info['numClasses']
        probe = AlexNetV1(classes, info['inChannels'])
        fc_in = probe.conv(torch.zeros(1, info['inChannels'], size, size)).numel()
        model = AlexNetV1(classes, info['inChannels'], fc_in=fc_in)
        model.load_state_dict(torch.load(a.weights, weights_only=True))
        n = a.calibration_images
        calib = preprocess(read_idx(f'{FMNIST}/train-images-idx3-ubyte.gz')[:n], info['evalTransforms'])
        shape = (info['inChannels'], size, size)
        result['model'] = f'{a.weights} (alexnet-v1, {size}x{size})'
    else:
        model = build(a.arch)
        size = 224 if a.arch == 'alexnet' else 227
        shape = (3, size, size)
        calib = torch.rand(min(a.calibration_images, 64), *shape) * 4 - 2
        result['model'] = f'{a.arch} (random weights, {size}x{size})'
    model.eval()
    q = quantize(model, calib, a.observer, engine)

    xb = torch.randn(a.batch, *shape)
    x1 = torch.randn(1, *shape)
    for name, m in (('f32', model), ('int8', q)):
        t = timed(m, xb, warmup, iters)
        result[f'torch_{name}_batch{a.batch}_img_per_s'] = a.batch / t
        result[f'torch_{name}_batch1_ms'] = 1000 * timed(m, x1, warmup, iters * 3)

    common = ['--batch', str(a.batch), '--threads', str(a.threads), '--iters', str(iters), '--warmup', str(warmup)]
    if a.weights:
        if a.ours_int8:
            for b in (a.batch, 1):
                r = ours(['--precision', 'int8', '--weights', a.ours_int8, '--batch', str(b), '--threads', str(a.threads),
                          '--iters', str(iters if b > 1 else iters * 3), '--warmup', str(warmup)])
                result[f'ours_int8_batch{b}'] = r
    else:
        for p in ('f32', 'bf16', 'int8'):
            result[f'ours_{p}_batch{a.batch}'] = ours(['--arch', a.arch, '--precision', p, *common])
        for p in ('f32', 'int8'):
            result[f'ours_{p}_batch1'] = ours(['--arch', a.arch, '--precision', p, '--batch', '1', '--threads', str(a.threads),
                                               '--iters', str(iters * 3), '--warmup', str(warmup)])
        i8 = result[f'ours_int8_batch{a.batch}'].get('img_per_s')
        if i8:
            result['ours_int8_over_ours_bf16'] = i8 / result[f'ours_bf16_batch{a.batch}'].get('img_per_s', float('nan'))
            result['ours_int8_over_torch_int8'] = i8 / result[f'torch_int8_batch{a.batch}_img_per_s']

    if a.eval:
        if not a.weights:
            raise SystemExit('torch_int8: --eval needs --weights')
        xt = preprocess(read_idx(f'{FMNIST}/t10k-images-idx3-ubyte.gz'), info['evalTransforms'])
        yt = torch.from_numpy(read_idx(f'{FMNIST}/t10k-labels-idx1-ubyte.gz').astype(np.int64))
        result['torch_f32_top1'] = top1(model, xt, yt)
        result['torch_int8_top1'] = top1(q, xt, yt)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
