"""Fixtures for the train/eval/predict tests, made with Debian's python3-torch (/usr/bin/python3).

  make_train_fixtures.py predict OUT_DIR
      torchvision's alexnet (1000 classes, seeded random weights with a sharpened last layer so
      that the top-5 classes are well separated) saved with torch.save as OUT_DIR/alexnet.pth, a
      preprocessed input OUT_DIR/input.npy [3, 224, 224], and PyTorch's top-5 classes and softmax
      probabilities for it in OUT_DIR/expected.json. (The state dict is 233 MB: the test makes it
      in a temporary folder instead of committing it.)

  make_train_fixtures.py check-pth FILE ARCH NUM_CLASSES IN_CHANNELS INPUT_SIZE INPUT.npy
      Loads FILE with torch.load(weights_only=True) into the PyTorch model of ARCH (strict), runs
      it in eval mode on INPUT.npy [N, C, H, W] and prints the logits as JSON.
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import build  # noqa: E402


def make_predict(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1234)
    model = build('alexnet', num_classes=1000).eval()
    with torch.no_grad():
        model.classifier[6].weight.mul_(300.0)
    torch.save(model.state_dict(), os.path.join(out, 'alexnet.pth'))
    g = torch.Generator().manual_seed(99)
    x = torch.randn(3, 224, 224, generator=g)
    np.save(os.path.join(out, 'input.npy'), x.numpy().astype(np.float32))
    with torch.no_grad():
        p = torch.softmax(model(x.unsqueeze(0)).double(), dim=1)[0]
    top = torch.topk(p, 5)
    json.dump({'top5': top.indices.tolist(), 'probs': top.values.tolist()}, open(os.path.join(out, 'expected.json'), 'w'))


def fc_in(arch, in_channels, size):
    if arch == 'alexnet':
        return None
    probe = build(arch, num_classes=1, in_channels=in_channels)
    part = probe.conv if arch == 'alexnet-v1' else probe.features
    with torch.no_grad():
        return part(torch.zeros(1, in_channels, size, size)).numel()


def check_pth(path, arch, num_classes, in_channels, size, input_path):
    from torch_models import AlexNet2012, AlexNetV1
    n = fc_in(arch, in_channels, size)
    if arch == 'alexnet':
        model = build('alexnet', num_classes=num_classes, in_channels=in_channels)
    elif arch == 'alexnet-v1':
        model = AlexNetV1(num_classes, in_channels, fc_in=n)
    else:
        model = AlexNet2012(num_classes, in_channels, fc_in=n)
    state = torch.load(path, weights_only=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.from_numpy(np.load(input_path))
    with torch.no_grad():
        y = model(x)
    print(json.dumps({'torch': torch.__version__, 'logits': y.flatten().tolist()}))


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'predict':
        make_predict(sys.argv[2])
    elif cmd == 'check-pth':
        check_pth(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        raise SystemExit(__doc__)
