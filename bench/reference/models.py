"""The benchmark networks in PyTorch, identical to bench/engine/models.mjs: MobileNetV2 for CIFAR
(torchvision's layout, stem and stage-6 stride 1), one inverted-residual block, and supernets
whose every block is a mixed op over MB3E3..MB7E6 (BinGate: one sampled path per step;
WeightedSum: softmax-weighted sum of all six)."""
import torch
import torch.nn as nn

CFG = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 1), (6, 320, 1, 1)]
CANDIDATES = [(3, 3), (3, 6), (5, 3), (5, 6), (7, 3), (7, 6)]


def mbconv(cin, cout, stride, e, k):
    chn = cin * e
    mods = []
    if e != 1:
        mods += [nn.Conv2d(cin, chn, 1, bias=False), nn.BatchNorm2d(chn), nn.ReLU6(inplace=True)]
    mods += [nn.Conv2d(chn, chn, k, stride, k // 2, groups=chn, bias=False), nn.BatchNorm2d(chn), nn.ReLU6(inplace=True)]
    mods += [nn.Conv2d(chn, cout, 1, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*mods)


def path_index(step, slot, n):
    """Same deterministic path choice as models.mjs pathIndex."""
    m = 0xFFFFFFFF
    h = (step * 2654435761 + slot * 40503 + 12345) & m
    h = ((h ^ (h >> 15)) * 2246822507) & m
    h = ((h ^ (h >> 13)) * 3266489909) & m
    return ((h ^ (h >> 16)) & m) % n


class MixedOp(nn.Module):
    def __init__(self, cands, kind, slot):
        super().__init__()
        self.kind, self.slot, self.step = kind, slot, 0
        self.cands = nn.ModuleList(cands)
        self.alpha = nn.Parameter(1e-3 * torch.randn(len(cands))) if kind == 'wsum' else None

    def forward(self, x):
        if self.kind == 'bingate':
            return self.cands[path_index(self.step, self.slot, len(self.cands))](x)
        w = torch.softmax(self.alpha, 0)
        return sum(c(x) * w[i] for i, c in enumerate(self.cands))


class Block(nn.Module):
    def __init__(self, cin, cout, stride, op):
        super().__init__()
        self.res = stride == 1 and cin == cout
        self.op = op

    def forward(self, x):
        y = self.op(x)
        return y + x if self.res else y


class MobileNetV2(nn.Module):
    def __init__(self, num_classes=10, mixed=None):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(inplace=True))
        blocks, self.mixed_ops, cin, slot = [], [], 32, 0
        for t, c, n, s in CFG:
            for j in range(n):
                stride = s if j == 0 else 1
                if mixed:
                    op = MixedOp([mbconv(cin, c, stride, e, k) for k, e in CANDIDATES], mixed, slot)
                    self.mixed_ops.append(op)
                else:
                    op = mbconv(cin, c, stride, t, 3)
                blocks.append(Block(cin, c, stride, op))
                cin, slot = c, slot + 1
        self.blocks = nn.Sequential(*blocks)
        self.last = nn.Sequential(nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6(inplace=True))
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(1280, num_classes)

    def set_step(self, step):
        for m in self.mixed_ops:
            m.step = step

    def weights(self):
        return [p for n, p in self.named_parameters() if not n.endswith('alpha')]

    def forward(self, x):
        x = self.last(self.blocks(self.stem(x)))
        return self.fc(self.drop(x.mean((2, 3))))


class OneBlock(nn.Module):
    """One inverted-residual block (MB3E6, 32 -> 32 channels, stride 1, residual)."""

    def __init__(self):
        super().__init__()
        self.block = Block(32, 32, 1, mbconv(32, 32, 1, 6, 3))

    def forward(self, x):
        return self.block(x)
