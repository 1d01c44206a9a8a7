"""Reference numbers for @modnas/backbone-darts from the original CreeperLin/modnas (dev branch, checked out at
/tmp/orig/modnas-dev) under Debian python3-torch 1.13: /usr/bin/python3 test/original-numbers.py > test/original-numbers.json"""
import sys, json
sys.path.insert(0, '/tmp/orig/modnas-dev')
import torch
from modnas.registry.arch_space import build as build_arch
from modnas.registry.construct import build as build_con
import modnas.arch_space.construct.torch
import modnas.arch_space.torch.networks.darts
import modnas.arch_space.predefined.layer_defs
import modnas.arch_space.torch.mixed_ops
import modnas.arch_space.torch.ops
import modnas.core.params.torch
def count(m): return sum(p.numel() for p in m.parameters())
out = {}
for (name, chn, layers, nodes, ncls, chn_in) in [('DARTS', 4, 3, 2, 10, 3), ('DARTS', 4, 5, 4, 10, 1), ('DARTS', 16, 8, 4, 10, 3), ('ImageNet-DARTS', 8, 4, 3, 100, 3)]:
    net = build_arch(name, chn_in=chn_in, chn=chn, n_classes=ncls, layers=layers, shared_a=True, channel_multiplier=3, auxiliary=False, nodes=nodes)
    base = count(net)
    con = build_con('DARTSSearchConstructor', mixed_op={'type': 'SoftmaxSumMixedOp'}, candidates=['MAX', 'AVG', 'IDF', 'SC3', 'SC5', 'DC3', 'DC5', 'NIL'])
    net = con(net)
    key = f'{name} chn={chn} layers={layers} nodes={nodes} n_classes={ncls} chn_in={chn_in}'
    out[key] = {'backbone': base, 'supernet': count(net)}
# the fixed network of a hand-made genotype (DefaultRecursiveArchDescConstructor, as the original's DARTS train configs)
import copy
from modnas.arch_space.construct.torch.arch_desc import DefaultRecursiveArchDescConstructor
normal = [[[['SC3'], [0], 2], [['DC5'], [1], 2]], [[['MAX'], [0], 3], [['IDF'], [2], 3]]]
reduce = [[[['AVG'], [1], 2], [['SC5'], [0], 2]], [[['DC3'], [2], 3], [['IDF'], [1], 3]]]
fixed = {}
for (name, chn, layers, nodes, ncls, chn_in) in [('DARTS', 4, 3, 2, 10, 3), ('ImageNet-DARTS', 8, 4, 2, 100, 3)]:
    net = build_arch(name, chn_in=chn_in, chn=chn, n_classes=ncls, layers=layers, shared_a=True, channel_multiplier=3, auxiliary=False, nodes=nodes)
    net = DefaultRecursiveArchDescConstructor(arch_desc=copy.deepcopy([normal, reduce]))(net)
    x = torch.randn(2, chn_in, 32 if name == 'DARTS' else 64, 32 if name == 'DARTS' else 64)
    y = net(x)
    fixed[f'{name} chn={chn} layers={layers} nodes={nodes} n_classes={ncls} chn_in={chn_in}'] = {'fixed': count(net), 'out': list(y.shape)}
assert not any('alpha' in n or 'arch' in n for n, _ in net.named_parameters())  # arch params are not weights
print(json.dumps({'counts': out, 'fixed': fixed, 'genotype': [normal, reduce]}, indent=1))
