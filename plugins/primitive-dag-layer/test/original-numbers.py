"""Reference numbers for @modnas/primitive-dag-layer from the original CreeperLin/modnas (dev branch, exported with
`git -C <mirror> archive dev modnas | tar x -C /tmp/dagref`) under Debian python3-torch 1.13:
/usr/bin/python3 test/original-numbers.py > test/original-numbers.json"""
import sys, json
sys.path.insert(0, '/tmp/dagref')
import torch
import modnas.arch_space.predefined.layer_defs as L
import modnas.arch_space.construct.torch
import modnas.arch_space.torch.mixed_ops
import modnas.arch_space.torch.ops
import modnas.core.params.torch
from modnas.arch_space.torch.layers import DAGLayer, MultiChainLayer
from modnas.arch_space.torch.slot import Slot
from modnas.arch_space.torch.networks.darts import PreprocLayer
from modnas.registry.arch_space import build as build_arch
from modnas.registry.construct import build as build_con

torch.manual_seed(0)
def count(m): return sum(p.numel() for p in m.parameters())

# enumerators: predecessor lists for (n_states, n_inputs)
enums = {}
for name, e in [('CombinationEnumerator', L.CombinationEnumerator()), ('FirstNEnumerator', L.FirstNEnumerator()),
                ('LastNEnumerator', L.LastNEnumerator()), ('ReverseEnumerator', L.ReverseEnumerator()),
                ('TreeEnumerator', L.TreeEnumerator()), ('TreeEnumerator width=3', L.TreeEnumerator(width=3))]:
    enums[name] = {f'{n},{k}': [list(s) for s in e.enum(n, k)] for n in range(1, 6) for k in range(1, 4) if k <= n}
    enums[name + ' len'] = {f'{n},{k}': e.len_enum(n, k) for n in range(1, 6) for k in range(1, 4) if k <= n}

# EvenSplitAllocator: channels (and slice) each node gets of each earlier state
alloc = {}
for (n_in, n_nodes, chn) in [(1, 3, 10), (2, 2, 7), (1, 4, 9)]:
    a = L.EvenSplitAllocator(n_in, n_nodes)
    rows = []
    for cur in range(n_in, n_in + n_nodes):
        for si in range(cur):
            c = a.chn_in([chn], (si,), cur)[0]
            sl = a.slice_map[(si, cur)]
            rows.append([si, cur, c, sl.start, sl.stop])
    alloc[f'n_inputs={n_in} n_nodes={n_nodes} chn={chn}'] = rows

# mergers on three 1x1 states of 2 channels: [1,2], [10,20], [100,200]
states = [torch.tensor([[[[1.]], [[2.]]]]), torch.tensor([[[[10.]], [[20.]]]]), torch.tensor([[[[100.]], [[200.]]]])]
mergers = {}
for name, cls in [('ConcatMerger', L.ConcatMerger), ('AvgMerger', L.AvgMerger), ('SumMerger', L.SumMerger), ('LastMerger', L.LastMerger)]:
    for start in [0, 1]:
        m = cls(start=start)
        y = m.merge(states)
        mergers[f'{name} start={start}'] = {'out': y.flatten().tolist(), 'chn_out': m.chn_out([2, 3, 4]), 'range': list(m.merge_range(3))}

def fill(layer, op):
    for mod in layer.modules():
        if isinstance(mod, Slot) and mod.ent is None:
            mod.set_entity(build_arch(op, slot=mod))

layers = {}
# a DARTS cell: two preprocessed inputs, the DARTS ops' mixed op on every edge
for (cpp, cp, chn, nodes, stride) in [(12, 8, 4, 3, 1), (6, 6, 2, 2, 2)]:
    Slot.reset()
    cell = DAGLayer((cpp, cp), None, stride, nodes, 'ReplicateAllocator', 'SumMerger', 'ConcatMerger', 'CombinationEnumerator',
                    preproc=(PreprocLayer, PreprocLayer), edge_cls=Slot, edge_kwargs={'_chn_in': (chn, ), '_chn_out': None, '_stride': None}, name='normal')
    base = count(cell)
    con = build_con('DefaultMixedOpConstructor', mixed_op={'type': 'SoftmaxSumMixedOp'}, candidates=['MAX', 'AVG', 'IDF', 'SC3', 'SC5', 'DC3', 'DC5', 'NIL'])
    cell = con(cell)
    y = cell([torch.randn(2, cpp, 8, 8), torch.randn(2, cp, 8, 8)])
    layers[f'darts cpp={cpp} cp={cp} chn={chn} nodes={nodes} stride={stride}'] = {
        'preproc_only': base, 'supernet': count(cell), 'edges': cell.num_edges, 'chn_states': cell.chn_states, 'chn_out': cell.chn_out, 'out': list(y.shape)}

# a DAGLayer for a Slot 6->6 stride 2: EvenSplitAllocator, SumMerger, AvgMerger, every edge SC3
Slot.reset()
dag = DAGLayer(6, 6, 2, 3, 'EvenSplitAllocator', 'SumMerger', 'AvgMerger', 'CombinationEnumerator', edge_cls=Slot, edge_kwargs={})
fill(dag, 'SC3')
y = dag(torch.randn(2, 6, 8, 8))
layers['evensplit chn=6 stride=2 nodes=3 SC3'] = {'params': count(dag), 'chn_states': dag.chn_states, 'chn_out': dag.chn_out, 'out': list(y.shape),
                                                  'edge_chn_in': [e.chn_in for row in dag.dag for e in row]}
# LastNEnumerator / TreeEnumerator chains of NC3
for enum in ['LastNEnumerator', 'TreeEnumerator', 'FirstNEnumerator']:
    Slot.reset()
    dag = DAGLayer(4, 8, 1, 3, 'ReplicateAllocator', 'SumMerger', 'LastMerger', enum, edge_cls=Slot, edge_kwargs={})
    fill(dag, 'NC3')
    y = dag(torch.randn(2, 4, 8, 8))
    layers[f'{enum} chn_in=4 chn_out=8 nodes=3 NC3'] = {'params': count(dag), 'chn_states': dag.chn_states, 'chn_out': dag.chn_out, 'out': list(y.shape),
                                                         'edge_chn_in': [e.chn_in for row in dag.dag for e in row]}

# MultiChainLayer 8->12 stride 2, chains of 1, 2, 1 edges, EvenSplitAllocator, ConcatMerger, every edge NC3
Slot.reset()
mc = MultiChainLayer(8, 12, 2, 3, [1, 2, 1], 'EvenSplitAllocator', 'ConcatMerger', edge_cls=Slot, edge_kwargs={})
fill(mc, 'NC3')
y = mc(torch.randn(2, 8, 8, 8))
layers['multichain 8->12 stride=2 chains=1,2,1 NC3'] = {'params': count(mc), 'chn_states': mc.chn_states, 'chn_out': mc.chn_out, 'out': list(y.shape),
                                                         'edges': [[[e.chn_in, e.chn_out] for e in chain] for chain in mc.chains]}
print(json.dumps({'enumerators': enums, 'even_split': alloc, 'mergers': mergers, 'layers': layers}, indent=1))
