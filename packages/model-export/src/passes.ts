/**
 * Graph passes that turn a trace into an inference graph: kernels that do nothing dropped, batch
 * norm folded into the convolution before it (exact up to float rounding: y = conv(x, W·s) + (b -
 * mean)·s + beta with s = gamma / sqrt(var + eps)), a bias and an activation carried by the conv,
 * and every remaining batch norm as one multiply and one add per channel.
 */
import { ModnasError } from '@modnas/core';
import type { Graph, Node } from './graph.js';

const CONVS = new Set(['Conv2D', 'DepthwiseConv2dNative']);

export function toInference(g: Graph): Graph {
  dropIdentities(g);
  foldBiases(g);
  foldBatchNorms(g);
  foldBiases(g);
  foldActivations(g);
  dropZeroAdds(g);
  dropIdentities(g);
  g.prune();
  checkBatchConstants(g);
  return g;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Identity, a Reshape or Cast that changes nothing, a clone: readers read the input instead. */
function dropIdentities(g: Graph): void {
  for (const n of [...g.nodes]) {
    const x = n.inputs[0]?.[1];
    if (!x) continue;
    const same =
      n.op === 'Identity' ||
      (n.op === 'Reshape' && sameShape(g.value(x).shape, g.value(n.output).shape)) ||
      (n.op === 'Cast' && g.value(x).dtype === g.value(n.output).dtype);
    if (!same) continue;
    g.replaceUses(n.output, x);
    g.nodes = g.nodes.filter((m) => m !== n);
  }
}

/** The only reader of `id`, or undefined when it has none, several, or is the graph's output. */
function soleReader(g: Graph, id: string): Node | undefined {
  if (g.output === id) return undefined;
  const r = g.readers().get(id) ?? [];
  return r.length === 1 ? r[0] : undefined;
}

function constData(g: Graph, id: string | undefined): Float32Array | undefined {
  if (id === undefined) return undefined;
  const d = g.value(id).data;
  return d instanceof Float32Array ? d : undefined;
}

/** Per-channel scale and shift of a batch norm with constant statistics, or undefined. */
function bnAffine(g: Graph, bn: Node): { scale: Float32Array; shift: Float32Array } | undefined {
  const mean = constData(g, g.in(bn, 'mean'));
  const variance = constData(g, g.in(bn, 'variance'));
  if (!mean || !variance) return undefined;
  const gammaId = g.in(bn, 'scale');
  const betaId = g.in(bn, 'offset');
  const gamma = gammaId ? constData(g, gammaId) : undefined;
  const beta = betaId ? constData(g, betaId) : undefined;
  if ((gammaId && !gamma) || (betaId && !beta)) return undefined;
  const eps = Number(bn.attrs.varianceEpsilon ?? 0.001);
  const c = mean.length;
  if (variance.length !== c || (gamma && gamma.length !== c) || (beta && beta.length !== c)) return undefined;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + eps);
    shift[i] = (beta ? beta[i] : 0) - mean[i] * scale[i];
  }
  return { scale, shift };
}

function foldBatchNorms(g: Graph): void {
  const producer = (): Map<string, Node> => g.producer();
  for (const bn of [...g.nodes]) {
    if (bn.op !== 'FusedBatchNorm') continue;
    const aff = bnAffine(g, bn);
    if (!aff) continue;
    const x = g.in(bn, 'x')!;
    const conv = producer().get(x);
    const c = aff.scale.length;
    const filter = conv && CONVS.has(conv.op) ? constData(g, g.in(conv, 'filter')) : undefined;
    if (conv && filter && soleReader(g, x) === bn && !conv.attrs.activation && filter.length % c === 0) {
      // conv(x, W)·s + t = conv(x, W·s) + t: the output channel is the fastest axis of the filter (HWIO; depthwise [KH, KW, C, M] -> c·M + m)
      const w = new Float32Array(filter.length);
      for (let i = 0; i < w.length; i++) w[i] = filter[i] * aff.scale[i % c];
      const f = g.in(conv, 'filter')!;
      // and its bias b, if it has one: b·s + t
      const b = constData(g, g.in(conv, 'bias'));
      const bias = b ? aff.shift.map((t, i) => b[i] * aff.scale[i] + t) : aff.shift;
      conv.inputs = conv.inputs.filter(([k]) => k !== 'bias').map(([k, id]) => [k, k === 'filter' ? g.addConst(w, [...g.value(f).shape], true, 'w') : id]);
      conv.inputs.push(['bias', g.addConst(bias, [c], true, 'w')]);
      g.replaceUses(bn.output, conv.output);
      g.nodes = g.nodes.filter((m) => m !== bn);
      continue;
    }
    // elsewhere (after a pooling, a concat): x·s + t
    const mulOut = g.addValue([...g.value(bn.output).shape]);
    const mul: Node = { op: 'Multiply', inputs: [['a', x], ['b', g.addConst(aff.scale, [c], true, 'w')]], attrs: {}, output: mulOut, scope: bn.scope };
    const add: Node = { op: 'Add', inputs: [['a', mulOut], ['b', g.addConst(aff.shift, [c], true, 'w')]], attrs: {}, output: bn.output, scope: bn.scope };
    g.nodes.splice(g.nodes.indexOf(bn), 1, mul, add);
  }
}

/** conv + a constant per-channel vector: the conv's bias (a conv with bias: true, or a folded batch norm followed by an add). */
function foldBiases(g: Graph): void {
  for (const add of [...g.nodes]) {
    if (add.op !== 'Add') continue;
    const prod = g.producer();
    for (const [xi, bi] of [[0, 1], [1, 0]] as const) {
      const x = add.inputs[xi][1];
      const b = add.inputs[bi][1];
      const conv = prod.get(x);
      const bias = constData(g, b);
      if (!conv || !CONVS.has(conv.op) || !bias || soleReader(g, x) !== add) continue;
      const chn = g.value(x).shape[3];
      if (g.value(b).shape.length !== 1 || bias.length !== chn) continue;
      const old = constData(g, g.in(conv, 'bias'));
      const sum = new Float32Array(chn);
      for (let i = 0; i < chn; i++) sum[i] = bias[i] + (old ? old[i] : 0);
      conv.inputs = conv.inputs.filter(([k]) => k !== 'bias');
      conv.inputs.push(['bias', g.addConst(sum, [chn], true, 'w')]);
      g.replaceUses(add.output, conv.output);
      g.nodes = g.nodes.filter((m) => m !== add);
      break;
    }
  }
}

/** conv -> Relu / Relu6 (its only reader): the conv's fused activation. */
function foldActivations(g: Graph): void {
  for (const act of [...g.nodes]) {
    if (act.op !== 'Relu' && act.op !== 'Relu6') continue;
    const x = act.inputs[0][1];
    const conv = g.producer().get(x);
    if (!conv || !CONVS.has(conv.op) || conv.attrs.activation || soleReader(g, x) !== act) continue;
    conv.attrs.activation = act.op;
    g.replaceUses(act.output, conv.output);
    g.nodes = g.nodes.filter((m) => m !== act);
  }
}

function allZero(d: Float32Array | Int32Array | undefined): boolean {
  return d !== undefined && d.every((v) => v === 0);
}

/** x + zeros (a NIL block's output added to a skip connection) is x; AddN drops its zero terms. */
function dropZeroAdds(g: Graph): void {
  for (const n of [...g.nodes]) {
    if (n.op === 'Add') {
      const out = g.value(n.output).shape;
      const keep = n.inputs.find(([, id]) => !allZero(g.value(id).data));
      const zero = n.inputs.find(([, id]) => allZero(g.value(id).data));
      if (!keep || !zero || !sameShape(g.value(keep[1]).shape, out)) continue;
      g.replaceUses(n.output, keep[1]);
      g.nodes = g.nodes.filter((m) => m !== n);
    } else if (n.op === 'AddN') {
      const terms = n.inputs.filter(([, id]) => !allZero(g.value(id).data));
      if (terms.length === n.inputs.length || terms.length === 0) continue;
      if (terms.length === 1) {
        g.replaceUses(n.output, terms[0][1]);
        g.nodes = g.nodes.filter((m) => m !== n);
      } else n.inputs = terms.map(([, id], i) => [String(i), id]);
    }
  }
}

/**
 * A constant the forward pass made with the trace's batch size in it (tf.zeros([n, ...]) where
 * nothing folds it away) would pin the exported model to that batch size: refuse it by name.
 */
function checkBatchConstants(g: Graph): void {
  for (const n of g.nodes) {
    for (const [, id] of n.inputs) {
      const v = g.value(id);
      if (v.data && !v.weight && v.shape.length >= 2 && v.shape[0] === g.batch) {
        throw new ModnasError('MODNAS_E_EXPORT_BATCH', `layer ${n.scope || '(model)'}: its forward makes a tensor of shape [${v.shape.join(', ')}] whose first axis is the batch size, read by a ${n.op} kernel; an exported model must accept any batch size`, {
          fix: `compute it from the input instead (e.g. tf.zerosLike(x) rather than tf.zeros([n, ...]))`,
        });
      }
    }
  }
}
