"""Learning-parity fixture: PyTorch's loss curve for a small MobileNetV2-style network.

Writes parity.json (hyperparameters, per-step losses, tensor index) and parity.bin (float32,
little-endian): the initial weights (PyTorch's default init), the batches, and the weights and BN
running statistics after the last step. plugins/trainer-default/src/parity.test.ts builds the same
network with @modnas/nn and @modnas/primitive-mbconv, loads the initial weights, runs the same
steps with DefaultTrainer and compares. Tensors are stored as PyTorch holds them (conv weights
OIHW, depthwise [C, 1, KH, KW], linear [out, in], inputs NCHW); the test converts the layouts.

The same steps are also run in float64 from the same start, and in float32 from initial weights
changed by about one ulp; the largest loss gaps are recorded: PyTorch's own rounding noise over
the run, the scale of the test's tolerance.

Run with Debian's /usr/bin/python3 and python3-torch:
    /usr/bin/python3 bench/reference/parity/make_parity.py
"""
import copy
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
BATCH, CLASSES, HW, N_BATCHES = 8, 10, 8, 8
EPOCHS, STEPS_PER_EPOCH = 6, 10
HP = dict(lr=0.05, momentum=0.9, weight_decay=1e-3, nesterov=False, lr_scheduler='cosine', lr_min=0.001, t_max=EPOCHS)
# (chn_in, chn_out, stride, expansion, kernel): an MB3E1 block with a residual, a strided MB3E3,
# an MB5E6 with a residual (MobileInvertedConv / MobileInvertedResidualBlock of ModularNAS).
BLOCKS = [(8, 8, 1, 1, 3), (8, 16, 2, 3, 3), (16, 16, 1, 6, 5)]
# Bias of every batch norm that feeds a ReLU6 (PyTorch's default is 0). ReLU6's gradient jumps at
# 0 and 6. With its inputs centred on 0, a few of the ~48k activations per step come within float32
# rounding of the kink over a run, that element's gradient flips side, and two float32 runs part
# for good (measured on this net: loss gaps of 1e-4..1e-1 after 60 steps in most of PyTorch's own
# runs from initial weights changed by 1 ulp). Centred on 3, an activation sits that close to a
# kink ~45x less often (normal density at 3 sigma, both kinks, against 0 sigma), and the run is
# a well-conditioned function of its inputs; ReLU6 still clips the tails (~0.3% of activations).
BN_BIAS_BEFORE_RELU6 = 3.0
PERTURBED_RUNS = 8


def mbconv(cin, cout, stride, e, k):
    """ModularNAS' MobileInvertedConv: its Sequential indices are the state-dict paths."""
    chn = cin * e
    mods = [] if chn == cin else [nn.Conv2d(cin, chn, 1, bias=False), nn.BatchNorm2d(chn), nn.ReLU6()]
    mods += [nn.Conv2d(chn, chn, k, stride, k // 2, groups=chn, bias=False), nn.BatchNorm2d(chn), nn.ReLU6()]
    mods += [nn.Conv2d(chn, cout, 1, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*mods)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, e, k):
        super().__init__()
        self.res = stride == 1 and cin == cout
        self.conv = mbconv(cin, cout, stride, e, k)

    def forward(self, x):
        y = self.conv(x)
        return y + x if self.res else y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6())
        self.blocks = nn.Sequential(*[Block(*b) for b in BLOCKS])
        self.fc = nn.Linear(BLOCKS[-1][1], CLASSES)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Sequential):
                    for a, b in zip(list(m), list(m)[1:]):
                        if isinstance(a, nn.BatchNorm2d) and isinstance(b, nn.ReLU6):
                            a.bias.fill_(BN_BIAS_BEFORE_RELU6)

    def forward(self, x):
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))


def train(net, xs, ys):
    """The run: SGD (PyTorch's rule: wd*w added to the gradient, momentum buffer, no dampening,
    no Nesterov), cosine LR stepped once per epoch, one batch per step, cycling over the batches."""
    opt = torch.optim.SGD(net.parameters(), lr=HP['lr'], momentum=HP['momentum'], weight_decay=HP['weight_decay'], nesterov=HP['nesterov'])
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=HP['t_max'], eta_min=HP['lr_min'])
    losses, lrs = [], []
    net.train()
    for epoch in range(EPOCHS):
        for i in range(STEPS_PER_EPOCH):
            b = (epoch * STEPS_PER_EPOCH + i) % N_BATCHES
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xs[b]), ys[b])
            loss.backward()
            opt.step()
            losses.append(loss.item())
            lrs.append(opt.param_groups[0]['lr'])
        sched.step()
    return losses, lrs


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    net = Net()
    init = copy.deepcopy(net.state_dict())
    xs = torch.randn(N_BATCHES, BATCH, 3, HW, HW)
    # Labels from a fixed random linear teacher, so the curve falls as the network learns.
    teacher = torch.randn(3 * HW * HW, CLASSES)
    ys = (xs.reshape(N_BATCHES, BATCH, -1) @ teacher).argmax(-1)

    losses, lrs = train(net, xs, ys)
    final = net.state_dict()

    net64 = Net().double()
    net64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in init.items()})
    losses64, _ = train(net64, xs.double(), ys)
    gap64 = max(abs(a - b) for a, b in zip(losses, losses64))
    # PyTorch float32 against itself: the same run from initial weights changed by ~1 ulp.
    gen = torch.Generator().manual_seed(SEED + 1)
    gaps = []
    for _ in range(PERTURBED_RUNS):
        p = Net()
        p.load_state_dict({k: v * (1 + 3e-7 * torch.randn(v.shape, generator=gen)) if k in dict(p.named_parameters()) else v for k, v in init.items()})
        lp, _ = train(p, xs, ys)
        gaps.append(max(abs(a - b) for a, b in zip(losses, lp)))

    entries, chunks, offset = [], [], 0

    def add(name, t):
        nonlocal offset
        a = t.detach().to(torch.float32).contiguous().numpy().astype('<f4')
        entries.append({'name': name, 'shape': list(a.shape), 'offset': offset})
        chunks.append(a.tobytes())
        offset += a.size

    def state(prefix, sd):
        for k, v in sd.items():
            if k.endswith('num_batches_tracked'):
                continue
            add(f'{prefix}/{k}', v)

    state('init', init)
    state('final', final)
    add('x', xs)
    with open(os.path.join(HERE, 'parity.bin'), 'wb') as f:
        f.write(b''.join(chunks))
    manifest = {
        'what': 'PyTorch reference run for plugins/trainer-default/src/parity.test.ts; made by make_parity.py',
        'torch': torch.__version__,
        'seed': SEED,
        'net': {'input': [3, HW, HW], 'stem': 8, 'blocks': [dict(zip(['chn_in', 'chn_out', 'stride', 'expansion', 'kernel'], b)) for b in BLOCKS], 'classes': CLASSES},
        'batch': BATCH,
        'batches': N_BATCHES,
        'epochs': EPOCHS,
        'steps_per_epoch': STEPS_PER_EPOCH,
        'hp': HP,
        'layout': 'PyTorch: conv OIHW, depthwise [C,1,KH,KW], linear [out,in], x NCHW [batches, batch, C, H, W]',
        'labels': ys.tolist(),
        'losses': losses,
        'lrs': lrs,
        'losses_float64': losses64,
        'bn_bias_before_relu6': BN_BIAS_BEFORE_RELU6,
        'max_loss_gap_float32_vs_float64': gap64,
        'max_loss_gap_float32_1ulp_init': max(gaps),
        'tensors': entries,
        'bin': 'parity.bin (float32 little-endian; offset and size in elements)',
    }
    with open(os.path.join(HERE, 'parity.json'), 'w') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    print(f'losses {losses[0]:.4f} -> {losses[-1]:.4f}; max loss gap: float64 {gap64:.1e}, 1-ulp init {max(gaps):.1e}; {offset * 4 / 1024:.0f} KiB')


if __name__ == '__main__':
    main()
