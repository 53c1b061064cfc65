"""Writes test/fixtures/golden/optim/*.json: torch.optim.SGD updates and LR-scheduler sequences.

Usage: /usr/bin/python3 scripts/make_optim_fixtures.py   (Debian's python3-torch)
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'golden', 'optim')
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(7)

sgd_cases = []
for opts in [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.01, momentum=0.9, weight_decay=5e-4),
             dict(lr=0.02, momentum=0.8, dampening=0.3, weight_decay=0.01),
             dict(lr=0.03, momentum=0.9, nesterov=True, weight_decay=1e-3)]:
    p = torch.randn(6, dtype=torch.float64, requires_grad=True)
    start = p.detach().clone()
    opt = torch.optim.SGD([p], **opts)
    grads, params = [], []
    for _ in range(4):
        g = torch.randn(6, dtype=torch.float64)
        p.grad = g.clone()
        opt.step()
        grads.append(g.tolist())
        params.append(p.detach().tolist())
    sgd_cases.append({'opts': opts, 'start': start.tolist(), 'grads': grads, 'params': params})

p = torch.zeros(1, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.01)
step = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
step_lrs = []
for _ in range(10):
    opt.step()
    step.step()
    step_lrs.append(opt.param_groups[0]['lr'])

metrics = [1.0, 0.9, 0.9, 0.9, 0.95, 0.91, 0.85, 0.85, 0.86, 0.87, 0.9, 0.88, 0.8, 0.8, 0.8, 0.8]
plateau = {}
for name, kw in {'default_patience2': dict(patience=2), 'cooldown_abs': dict(patience=1, cooldown=2, threshold=0.01, threshold_mode='abs'),
                 'max_mode': dict(mode='max', patience=1, factor=0.5, min_lr=0.002)}.items():
    opt = torch.optim.SGD([p], lr=0.01)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]['lr'])
    plateau[name] = {'opts': kw, 'lrs': lrs}

with open(os.path.join(OUT, 'optim.json'), 'w') as f:
    json.dump({'sgd': sgd_cases, 'step_lr': {'step_size': 3, 'gamma': 0.1, 'lrs': step_lrs}, 'metrics': metrics, 'plateau': plateau}, f, indent=1)
print('wrote optim.json')
