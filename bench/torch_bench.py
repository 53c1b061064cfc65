# PyTorch side of bench/compare.ts and bench/d2l.ts: AlexNet inference or one training step
# (cross-entropy, backward, SGD with momentum), f32 or bf16 autocast, with the given number of
# threads, in each of PyTorch 1.13's fast CPU modes; reports the best mode (median ms of each
# mode's timed iterations) with every mode's numbers beside it. Prints one JSON object.
#   python3 bench/torch_bench.py ARCH BATCH MODE PRECISION THREADS WARMUP ITERS [--modes a,b] [--allow-reference-blas]
#   python3 bench/torch_bench.py --blas        only which BLAS library PyTorch loads (JSON)
# Modes (bf16: each inside torch.autocast('cpu', dtype=torch.bfloat16)):
#   eager            NCHW modules as written
#   channels_last    model and input in torch.channels_last (oneDNN's NHWC convolutions)
#   jit_freeze       torch.jit.trace + torch.jit.freeze (inference: weights folded as constants,
#                    conv+ReLU fused; under autocast the weights' bf16 casts are folded too)
#   jit_freeze_cl    the same on channels_last
#   jit_optimize     torch.jit.optimize_for_inference (freeze + prepacked oneDNN convolutions; f32 only:
#                    its conversion to oneDNN tensors has no bf16 path in 1.13)
# Training runs eager and channels_last (freezing is for inference only).
# ARCH 'd2l' is the textbook's Fashion-MNIST model (alexnet-v1 layers, 1×224×224 input, FC6 of
# 256·5·5, 10 classes) with plain SGD (lr 0.01), as `alexnet train --preset d2l` trains it.
#
# PyTorch's linear layers run on the system BLAS. Debian's python3-torch links libblas.so.3, which
# is the netlib reference BLAS unless libopenblas0-pthread is installed (8-12× slower training):
# this script says which library the process loaded and refuses the reference one unless told.
import json
import os
import re
import statistics
import sys
import time

THREADS = sys.argv[5] if len(sys.argv) > 5 else '1'
# Before torch loads: OpenBLAS sizes its own thread pool from these, not from torch.set_num_threads.
os.environ.setdefault('OMP_NUM_THREADS', THREADS)
os.environ.setdefault('OPENBLAS_NUM_THREADS', THREADS)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'scripts'))
from torch_models import AlexNetV1, build  # noqa: E402  (the three AlexNets, as the library defines them)

INFER_MODES = ['eager', 'channels_last', 'jit_freeze', 'jit_freeze_cl', 'jit_optimize']
TRAIN_MODES = ['eager', 'channels_last']


def loaded_blas():
    """The BLAS library this process mapped after a matmul that goes through it (torch.mm of f32)."""
    a = torch.ones(64, 64)
    torch.mm(a, a)
    with open('/proc/self/maps') as f:
        libs = sorted(set(re.findall(r'(/\S*lib(?:openblas|blas|mkl_rt|blis)\S*\.so\S*)', f.read())))
    config = torch.__config__.show()
    info = re.search(r'BLAS_INFO=(\w+)', config)
    if any('openblas' in lib for lib in libs):
        kind = 'openblas'
    elif any('mkl' in lib for lib in libs):
        kind = 'mkl'
    elif any('blis' in lib for lib in libs):
        kind = 'blis'
    elif any(re.search(r'/blas/libblas\.so', lib) for lib in libs):
        kind = 'reference'
    else:
        kind = 'unknown'
    return {'kind': kind, 'libraries': libs, 'build_blas_info': info.group(1) if info else None}


def make_model(arch, batch):
    torch.manual_seed(0)
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
    return model, x, y, opt


def make_step(arch, batch, mode, precision, torch_mode):
    """A function that runs one iteration of `mode` in `torch_mode`."""
    bf16 = precision == 'bf16'
    autocast = lambda: torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16)  # noqa: E731
    model, x, y, opt = make_model(arch, batch)
    channels_last = torch_mode in ('channels_last', 'jit_freeze_cl')
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
        if hasattr(model, 'conv'):
            # AlexNetV1.forward flattens with view(), which needs NCHW strides: hand it NCHW (the
            # one copy torch.flatten would make of a channels_last tensor anyway).
            model.conv.register_forward_hook(lambda _m, _i, out: out.contiguous())
    if mode == 'train':
        if torch_mode not in TRAIN_MODES:
            raise ValueError(f'{torch_mode} is an inference mode')
        model.train()

        def train_step():
            opt.zero_grad()
            with autocast():
                loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()

        return train_step
    model.eval()
    if torch_mode in ('eager', 'channels_last'):
        def infer():
            with torch.no_grad(), autocast():
                model(x)

        return infer
    with torch.no_grad():
        if bf16:
            # Trace the casts autocast inserts into the graph, so that freezing folds the weights' casts.
            torch._C._jit_set_autocast_mode(False)
            with torch.autocast('cpu', dtype=torch.bfloat16):
                traced = torch.jit.trace(model, x, check_trace=False)
        else:
            traced = torch.jit.trace(model, x, check_trace=False)
        frozen = torch.jit.optimize_for_inference(traced) if torch_mode == 'jit_optimize' else torch.jit.freeze(traced)

    def infer_frozen():
        with torch.no_grad():
            frozen(x)

    return infer_frozen


def measure(step, warmup, iters):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main():
    if sys.argv[1:] == ['--blas']:
        print(json.dumps(loaded_blas()))
        return
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    arch, batch, mode, precision, threads, warmup, iters = args[:7]
    batch, threads, warmup, iters = int(batch), int(threads), int(warmup), int(iters)
    if arch not in ('alexnet', 'alexnet-v1', 'alexnet-2012', 'd2l'):
        raise SystemExit(f'torch_bench: unsupported arch {arch}')
    if mode not in ('infer', 'train') or precision not in ('f32', 'bf16'):
        raise SystemExit(f'torch_bench: MODE is infer or train, PRECISION f32 or bf16 (got {mode} {precision})')
    modes = TRAIN_MODES if mode == 'train' else INFER_MODES
    if precision == 'bf16':
        modes = [m for m in modes if m != 'jit_optimize']  # its oneDNN conversion is f32-only in 1.13
    if '--modes' in sys.argv:
        modes = sys.argv[sys.argv.index('--modes') + 1].split(',')
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.jit.enable_onednn_fusion(True)  # oneDNN Graph fusion where this build has it (see 'onednn_graph')
    blas = loaded_blas()
    if blas['kind'] == 'reference':
        print(f"torch_bench: PyTorch loaded the netlib REFERENCE BLAS ({', '.join(blas['libraries'])}): its linear layers "
              'run 10-50× slower than on OpenBLAS, which is no honest baseline. Install it: '
              'apt-get install libopenblas0-pthread (or pass --allow-reference-blas)', file=sys.stderr)
        if '--allow-reference-blas' not in sys.argv:
            sys.exit(3)
    results = {}
    for m in modes:
        try:
            # JIT modes optimise their graph in the profiling runs: at least 3 warm-up iterations.
            ms = measure(make_step(arch, batch, mode, precision, m), max(warmup, 3) if m.startswith('jit') else warmup, iters)
            results[m] = {'ms_per_iter': ms, 'img_per_s': batch * 1000 / ms}
        except Exception as e:  # a mode this build or case cannot run is reported, not fatal
            results[m] = {'error': f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'[:200]}
    timed = {m: r for m, r in results.items() if 'ms_per_iter' in r}
    if not timed:
        raise SystemExit(f'torch_bench: every mode failed: {json.dumps(results)}')
    best = min(timed, key=lambda m: timed[m]['ms_per_iter'])
    print(json.dumps({'arch': arch, 'batch': batch, 'mode': mode, 'precision': precision, 'threads': threads,
                      'backend': f'pytorch {torch.__version__}', 'torch_mode': best,
                      'img_per_s': timed[best]['img_per_s'], 'ms_per_iter': timed[best]['ms_per_iter'],
                      'modes': results, 'blas': blas, 'onednn_graph': bool(torch._C._jit_llga_enabled())}))


main()
