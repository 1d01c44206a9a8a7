/**
 * A TensorFlow.js graph model (model.json + binary weight shards), the format tfjs-converter
 * writes from a TensorFlow SavedModel and `tf.loadGraphModel` loads: the topology is a TensorFlow
 * GraphDef in protobuf's JSON mapping (attrs as AttrValue: lists of int64 as decimal strings,
 * strings as base64), weights are the Const nodes, in shards of at most 4 MiB. NHWC, as traced.
 */
import { ModnasError } from '@modnas/core';
import type { Graph, Node } from './graph.js';
import { ELEMENTWISE, nodeNamer } from './graph.js';

export const TFJS_FORMAT = 'tfjs';
const SHARD_BYTES = 4 * 1024 * 1024;

type Attr = Record<string, unknown>;
interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, Attr>;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

export interface TfjsModel {
  /** model.json's object. */
  modelJson: {
    format: 'graph-model';
    generatedBy: string;
    convertedBy: string;
    modelTopology: { node: TfNode[]; library: Record<string, never>; versions: Record<string, never> };
    weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
    signature: unknown;
  };
  /** The weight shards, named as modelJson.weightsManifest's paths. */
  shards: Array<{ name: string; data: Uint8Array }>;
  inputName: string;
  outputName: string;
}

/** Base64 of a string's UTF-8 (attribute strings: short), in Node and in a browser alike. */
const b64 = (s: string): string => btoa(Array.from(new TextEncoder().encode(s), (b) => String.fromCharCode(b)).join(''));
const ints = (xs: readonly number[]): Attr => ({ list: { i: xs.map((x) => String(x)) } });
const str = (s: string): Attr => ({ s: b64(s) });
const T: Attr = { type: 'DT_FLOAT' };
const shapeAttr = (shape: readonly number[]): Attr => ({ dim: shape.map((d) => ({ size: String(d) })) });

function unsupported(n: Node, why: string): ModnasError {
  return new ModnasError('MODNAS_E_EXPORT_UNSUPPORTED', `layer ${n.scope || '(model)'}: its ${n.op} kernel ${why}, which the TensorFlow.js graph model format cannot express`, {
    fix: 'export to ONNX only (--format onnx), or build that layer from supported ops (convolutions, pooling, batch norm, ReLU/ReLU6, add, concat, mean, matMul, reshape, pad, slice)',
  });
}

/** Conv padding as TF attrs: SAME / VALID, or EXPLICIT with the 8 numbers. */
function padAttrs(n: Node, pad: unknown): Record<string, Attr> {
  if (pad === 'same' || pad === 'valid') return { padding: str(pad.toUpperCase()) };
  if (typeof pad === 'number') return pad === 0 ? { padding: str('VALID') } : { padding: str('EXPLICIT'), explicit_paddings: ints([0, 0, pad, pad, pad, pad, 0, 0]) };
  if (Array.isArray(pad) && pad.length === 4) return { padding: str('EXPLICIT'), explicit_paddings: ints((pad as number[][]).flat()) };
  throw unsupported(n, `has padding ${JSON.stringify(pad)}`);
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v ?? 1), Number(v ?? 1)]);

export function toTfjs(g: Graph, opts: { producer?: string } = {}): TfjsModel {
  const nodes: TfNode[] = [];
  const weights: WeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  const names = new Map<string, string>();
  const usedNames = new Set<string>();
  const unique = (base: string): string => {
    let name = base;
    for (let k = 1; usedNames.has(name); k++) name = `${base}_${k}`;
    usedNames.add(name);
    return name;
  };

  const addConst = (name: string, data: Float32Array | Int32Array, shape: number[]): string => {
    const dtype = data instanceof Int32Array ? 'int32' : 'float32';
    const n = unique(name);
    nodes.push({ name: n, op: 'Const', attr: { value: { tensor: { dtype: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: shapeAttr(shape) } }, dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } });
    weights.push({ name: n, shape, dtype });
    chunks.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return n;
  };
  const ref = (id: string, hint: string): string => {
    const known = names.get(id);
    if (known) return known;
    const v = g.value(id);
    if (!v.data) throw new Error(`tfjs export: value ${id} read before it was made`);
    const name = addConst(hint, v.data, v.shape);
    names.set(id, name);
    return name;
  };
  const intConst = (name: string, xs: readonly number[], scalar = false): string => addConst(name, Int32Array.from(xs), scalar ? [] : [xs.length]);
  const batchFree = (xs: readonly number[]): number[] => xs.map((d, i) => (i === 0 && d === g.batch ? -1 : d));

  const inputShape = g.value(g.input).shape;
  const inputName = unique('input');
  nodes.push({ name: inputName, op: 'Placeholder', attr: { dtype: T, shape: { shape: shapeAttr([-1, ...inputShape.slice(1)]) } } });
  names.set(g.input, inputName);

  const namer = nodeNamer();
  for (const n of g.nodes) {
    const name = unique(namer(n));
    const inp = (k: string): string => ref(g.in(n, k)!, `${name}/${k}`);
    const first = (): string => ref(n.inputs[0][1], `${name}/x`);
    const emit = (op: string, input: string[], attr: Record<string, Attr> = {}, nodeName = name): string => {
      nodes.push({ name: nodeName, op, input, attr });
      return nodeName;
    };
    let out: string;
    switch (n.op) {
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        const [sh, sw] = pair(n.attrs.strides);
        const [dh, dw] = pair(n.attrs.dilations);
        const attr: Record<string, Attr> = { T, strides: ints([1, sh, sw, 1]), dilations: ints([1, dh, dw, 1]), data_format: str('NHWC'), ...padAttrs(n, n.attrs.pad) };
        const act = n.attrs.activation as string | undefined;
        const biasId = g.in(n, 'bias');
        if (!biasId && !act) {
          out = emit(n.op, [inp('x'), inp('filter')], attr);
          break;
        }
        // tfjs' fused kernels: conv + bias (+ activation) in one
        const chn = g.value(n.output).shape[3];
        const bias = biasId ? inp('bias') : addConst(`${name}/bias`, new Float32Array(chn), [chn]);
        const fused = ['BiasAdd', ...(act ? [act] : [])];
        out = emit(n.op === 'Conv2D' ? '_FusedConv2D' : 'FusedDepthwiseConv2dNative', [inp('x'), inp('filter'), bias], {
          ...attr,
          fused_ops: { list: { s: fused.map(b64) } },
          num_args: { i: '1' },
          epsilon: { f: 0 },
        });
        break;
      }
      case 'Relu6':
      case 'Square':
        out = emit(n.op, [first()], { T });
        break;
      case 'AddN':
        out = emit('AddN', n.inputs.map(([k, id]) => ref(id, `${name}/${k}`)), { T, N: { i: String(n.inputs.length) } });
        break;
      case 'Mean':
      case 'Sum':
      case 'Max': {
        const rank = g.value(n.inputs[0][1]).shape.length;
        const axes = ([] as number[]).concat(n.attrs.axis as number | number[]).map((a) => (a < 0 ? a + rank : a));
        out = emit(n.op, [first(), intConst(`${name}/axis`, axes)], { T, keep_dims: { b: Boolean(n.attrs.keepDims) }, Tidx: { type: 'DT_INT32' } });
        break;
      }
      case 'BatchMatMul': {
        if (g.value(n.inputs[0][1]).shape.length !== 2 || g.value(n.inputs[1][1]).shape.length !== 2) throw unsupported(n, 'multiplies tensors of rank above 2');
        out = emit('MatMul', [inp('a'), inp('b')], { T, transpose_a: { b: Boolean(n.attrs.transposeA) }, transpose_b: { b: Boolean(n.attrs.transposeB) } });
        break;
      }
      case 'Reshape':
        out = emit('Reshape', [first(), intConst(`${name}/shape`, batchFree(g.value(n.output).shape))], { T, Tshape: { type: 'DT_INT32' } });
        break;
      case 'PadV2': {
        const pads = (n.attrs.paddings as number[][]).flat();
        out = emit('PadV2', [first(), addConst(`${name}/paddings`, Int32Array.from(pads), [pads.length / 2, 2]), addConst(`${name}/constant_value`, Float32Array.of(Number(n.attrs.constantValue ?? 0)), [])], { T, Tpaddings: { type: 'DT_INT32' } });
        break;
      }
      case 'AvgPool':
      case 'MaxPool': {
        const [kh, kw] = pair(n.attrs.filterSize);
        const [sh, sw] = pair(n.attrs.strides);
        const pad = n.attrs.pad;
        if (pad !== 'same' && pad !== 'valid' && pad !== 0) throw unsupported(n, `pools with padding ${JSON.stringify(pad)}`);
        out = emit(n.op, [first()], { T, ksize: ints([1, kh, kw, 1]), strides: ints([1, sh, sw, 1]), padding: str(pad === 0 ? 'VALID' : String(pad).toUpperCase()), data_format: str('NHWC') });
        break;
      }
      case 'Concat': {
        const rank = g.value(n.output).shape.length;
        const axis = Number(n.attrs.axis);
        out = emit('ConcatV2', [...n.inputs.map(([k, id]) => ref(id, `${name}/${k}`)), intConst(`${name}/axis`, [axis < 0 ? axis + rank : axis], true)], { T, N: { i: String(n.inputs.length) }, Tidx: { type: 'DT_INT32' } });
        break;
      }
      case 'Slice': {
        const inShape = g.value(n.inputs[0][1]).shape;
        const begin = ([] as number[]).concat(n.attrs.begin as number[]);
        const size = g.value(n.output).shape.map((d, i) => (i === 0 && begin[0] === 0 && d === inShape[0] ? -1 : d));
        out = emit('Slice', [first(), intConst(`${name}/begin`, [...begin, ...Array(inShape.length - begin.length).fill(0)]), intConst(`${name}/size`, size)], { T, Index: { type: 'DT_INT32' } });
        break;
      }
      case 'Transpose':
        out = emit('Transpose', [first(), intConst(`${name}/perm`, n.attrs.perm as number[])], { T, Tperm: { type: 'DT_INT32' } });
        break;
      case 'Softmax': {
        const rank = g.value(n.output).shape.length;
        const dim = Number(n.attrs.dim ?? -1);
        if (dim !== -1 && dim !== rank - 1) throw unsupported(n, `takes a softmax over axis ${dim}, not the last`);
        out = emit('Softmax', [first()], { T });
        break;
      }
      case 'ZerosLike':
        out = emit('ZerosLike', [first()], { T });
        break;
      default: {
        const e = ELEMENTWISE[n.op];
        if (!e) throw unsupported(n, 'has no mapping');
        out = emit(e.tf, n.inputs.map(([k, id]) => ref(id, `${name}/${k}`)), { T });
      }
    }
    names.set(n.output, out);
  }
  const outputName = unique('logits');
  nodes.push({ name: outputName, op: 'Identity', input: [ref(g.output, 'output')], attr: { T } });

  // one buffer, cut into shards
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => ({ name: `group1-shard${i + 1}of${count}.bin`, data: all.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES)) }));
  const shape = (s: readonly number[]): unknown => ({ dim: s.map((d) => ({ size: String(d) })) });
  return {
    modelJson: {
      format: 'graph-model',
      generatedBy: opts.producer ?? '@modnas/model-export',
      convertedBy: '@modnas/model-export',
      modelTopology: { node: nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: shards.map((s) => s.name), weights }],
      signature: {
        inputs: { [inputName]: { name: `${inputName}:0`, dtype: 'DT_FLOAT', tensorShape: shape([-1, ...inputShape.slice(1)]) } },
        outputs: { [outputName]: { name: `${outputName}:0`, dtype: 'DT_FLOAT', tensorShape: shape([-1, ...g.value(g.output).shape.slice(1)]) } },
      },
    },
    shards,
    inputName,
    outputName,
  };
}
