/**
 * ONNX (opset 13), encoded with onnx-proto's protobufjs classes. ONNX convolutions are NCHW, the
 * traced graph NHWC: every 4-D activation is kept NCHW here (the model's input included, as
 * PyTorch-exported models have it), filters are transposed once at export, and ops that take axes
 * (mean, concat, pad, slice) get them mapped; an op with no NCHW form runs between two transposes.
 */
import onnxProto from 'onnx-proto';
import { ModnasError } from '@modnas/core';
import type { Graph, Node } from './graph.js';
import { ELEMENTWISE, nodeNamer } from './graph.js';

const { onnx } = onnxProto;
export const ONNX_OPSET = 13;

type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** NHWC axis -> NCHW axis. */
const TO_NCHW = [0, 2, 3, 1];

function unsupported(n: Node, why: string): ModnasError {
  return new ModnasError('MODNAS_E_EXPORT_UNSUPPORTED', `layer ${n.scope || '(model)'}: its ${n.op} kernel ${why}, which the ONNX export cannot express`, {
    fix: 'export to TensorFlow.js only (--format tfjs), or build that layer from supported ops (convolutions, pooling, batch norm, ReLU/ReLU6, add, concat, mean, matMul, reshape, pad, slice)',
  });
}

const attrInts = (name: string, ints: readonly number[]): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] });
const attrInt = (name: string, i: number): AttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v ?? 1), Number(v ?? 1)]);

/** ONNX pads [top, left, bottom, right] of a tfjs conv/pool pad over an NHWC input. */
function spatialPads(n: Node, pad: unknown, inHW: [number, number], k: [number, number], s: [number, number], d: [number, number]): number[] {
  if (pad === 'valid' || pad === 0) return [0, 0, 0, 0];
  if (typeof pad === 'number') return [pad, pad, pad, pad];
  if (pad === 'same') {
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < 2; i++) {
      const out = Math.ceil(inHW[i] / s[i]);
      const total = Math.max((out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - inHW[i], 0);
      before.push(Math.floor(total / 2));
      after.push(total - Math.floor(total / 2));
    }
    return [before[0], before[1], after[0], after[1]];
  }
  if (Array.isArray(pad) && pad.length === 4) {
    const p = pad as number[][];
    return [p[1][0], p[2][0], p[1][1], p[2][1]];
  }
  throw unsupported(n, `has padding ${JSON.stringify(pad)}`);
}

export function toOnnx(g: Graph, opts: { producer?: string; version?: string; docString?: string } = {}): Uint8Array {
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const usedNames = new Set<string>();
  const unique = (base: string): string => {
    let name = base;
    for (let k = 1; usedNames.has(name); k++) name = `${base}_${k}`;
    usedNames.add(name);
    return name;
  };
  const floatInit = (name: string, data: Float32Array, dims: number[]): string => {
    const n = unique(name);
    initializers.push({ name: n, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
    return n;
  };
  const int64Init = (name: string, xs: readonly number[], scalar = false): string => {
    const n = unique(name);
    const data = BigInt64Array.from(xs.map((x) => BigInt(x)));
    initializers.push({ name: n, dims: scalar ? [] : [xs.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) });
    return n;
  };
  const op = (type: string, inputs: string[], name: string, attribute: AttributeProto[] = []): string => {
    const out = unique(name);
    nodes.push(onnx.NodeProto.create({ opType: type, input: inputs, output: [out], name: out, attribute }));
    return out;
  };

  /** Value id -> ONNX name; 4-D activations are NCHW. */
  const names = new Map<string, string>();
  const nchw = (id: string): boolean => !g.isConst(id) && g.value(id).shape.length === 4;
  /**
   * A constant as an operand of an elementwise op with a 4-D (NCHW) activation: broadcast from
   * the right in NHWC, so align it to rank 4 and permute. Otherwise as it is.
   */
  const constRef = (id: string, hint: string, withNchw: boolean): string => {
    const v = g.value(id);
    const data = v.data!;
    if (v.dtype !== 'float32') throw new ModnasError('MODNAS_E_EXPORT_UNSUPPORTED', `a constant of type ${v.dtype} reaches an elementwise op (${hint})`, { fix: 'use float32 tensors in the forward pass' });
    const f = data as Float32Array;
    if (!withNchw || v.shape.length === 0 || v.shape.every((d) => d === 1)) return floatInit(hint, f, v.shape);
    const s4 = [...Array(4 - v.shape.length).fill(1), ...v.shape];
    const [n, h, w, c] = s4;
    const out = new Float32Array(f.length);
    for (let a = 0; a < n; a++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[((a * c + ch) * h + y) * w + x] = f[((a * h + y) * w + x) * c + ch];
    return floatInit(hint, out, v.shape.length === 1 ? [c, 1, 1] : [n, c, h, w]);
  };
  const ref = (id: string, hint: string, withNchw = false): string => {
    const known = names.get(id);
    if (known) return known;
    if (!g.isConst(id)) throw new Error(`onnx export: value ${id} read before it was made`);
    return constRef(id, hint, withNchw);
  };
  /** An activation in NHWC order (a transpose when it is 4-D). */
  const asNhwc = (id: string, hint: string): string => (nchw(id) ? op('Transpose', [ref(id, hint)], `${hint}/to_nhwc`, [attrInts('perm', [0, 2, 3, 1])]) : ref(id, hint));

  const inShape = g.value(g.input).shape;
  const inputName = 'input';
  usedNames.add(inputName);
  names.set(g.input, inputName);
  const relu6 = (x: string, name: string): string => op('Clip', [x, floatInit(`${name}/min`, Float32Array.of(0), []), floatInit(`${name}/max`, Float32Array.of(6), [])], name);

  const namer = nodeNamer();
  for (const n of g.nodes) {
    const name = namer(n);
    const x0 = n.inputs[0]?.[1];
    let out: string;
    switch (n.op) {
      case 'Conv2D':
      case 'DepthwiseConv2dNative': {
        const xId = g.in(n, 'x')!;
        const fId = g.in(n, 'filter')!;
        const fv = g.value(fId);
        if (!fv.data) throw unsupported(n, 'has a filter computed from the input');
        const [kh, kw, ci, co] = fv.shape;
        const f = fv.data as Float32Array;
        const depthwise = n.op === 'DepthwiseConv2dNative';
        const outC = depthwise ? ci * co : co;
        // HWIO -> OIHW; depthwise [KH, KW, C, M] -> [C·M, 1, KH, KW]
        const w = new Float32Array(f.length);
        for (let y = 0; y < kh; y++)
          for (let x = 0; x < kw; x++)
            for (let i = 0; i < ci; i++)
              for (let o = 0; o < co; o++) {
                const src = ((y * kw + x) * ci + i) * co + o;
                const dst = depthwise ? ((i * co + o) * kh + y) * kw + x : ((o * ci + i) * kh + y) * kw + x;
                w[dst] = f[src];
              }
        const s = pair(n.attrs.strides);
        const d = pair(n.attrs.dilations);
        const xs = g.value(xId).shape;
        const inputs = [ref(xId, `${name}/x`), floatInit(`${name}/weight`, w, depthwise ? [outC, 1, kh, kw] : [co, ci, kh, kw])];
        const b = g.in(n, 'bias');
        if (b) inputs.push(floatInit(`${name}/bias`, g.value(b).data as Float32Array, [outC]));
        const act = n.attrs.activation as string | undefined;
        out = op('Conv', inputs, act ? `${name}/conv` : name, [
          attrInts('kernel_shape', [kh, kw]),
          attrInts('strides', s),
          attrInts('dilations', d),
          attrInts('pads', spatialPads(n, n.attrs.pad, [xs[1], xs[2]], [kh, kw], s, d)),
          attrInt('group', depthwise ? ci : 1),
        ]);
        if (act === 'Relu') out = op('Relu', [out], name);
        else if (act === 'Relu6') out = relu6(out, name);
        break;
      }
      case 'Relu6':
        out = relu6(ref(x0, `${name}/x`), name);
        break;
      case 'Square': {
        const x = ref(x0, `${name}/x`);
        out = op('Mul', [x, x], name);
        break;
      }
      case 'AddN': {
        const anyNchw = n.inputs.some(([, id]) => nchw(id));
        out = op('Sum', n.inputs.map(([k, id]) => ref(id, `${name}/${k}`, anyNchw)), name);
        break;
      }
      case 'Mean':
      case 'Max': {
        const xs = g.value(x0).shape;
        const rank = xs.length;
        const axes = ([] as number[]).concat(n.attrs.axis as number | number[]).map((a) => (a < 0 ? a + rank : a));
        const keep = Boolean(n.attrs.keepDims);
        const isNchw = nchw(x0);
        const mapped = isNchw ? axes.map((a) => TO_NCHW[a]) : axes;
        out = op(n.op === 'Mean' ? 'ReduceMean' : 'ReduceMax', [ref(x0, `${name}/x`)], isNchw && !keep ? `${name}/nchw` : name, [attrInts('axes', mapped), attrInt('keepdims', keep ? 1 : 0)]);
        if (isNchw && !keep) {
          // the kept axes come out in NCHW order; the graph expects them in NHWC order
          const kept = [0, 1, 2, 3].filter((a) => !axes.includes(a));
          const onnxOrder = [...kept].sort((p, q) => TO_NCHW[p] - TO_NCHW[q]);
          const perm = kept.map((a) => onnxOrder.indexOf(a));
          out = perm.every((p, i) => p === i) ? op('Identity', [out], name) : op('Transpose', [out], name, [attrInts('perm', perm)]);
        }
        break;
      }
      case 'BatchMatMul': {
        const [a, b] = [g.in(n, 'a')!, g.in(n, 'b')!];
        if (g.value(a).shape.length !== 2 || g.value(b).shape.length !== 2) throw unsupported(n, 'multiplies tensors of rank above 2');
        out = op('Gemm', [ref(a, `${name}/a`), ref(b, `${name}/b`)], name, [attrInt('transA', n.attrs.transposeA ? 1 : 0), attrInt('transB', n.attrs.transposeB ? 1 : 0)]);
        break;
      }
      case 'Reshape': {
        const xs = g.value(x0).shape;
        const target = g.value(n.output).shape.map((d, i) => (i === 0 && d === g.batch ? -1 : d));
        // [N, 1, 1, C] is the same memory in NCHW and NHWC: no transpose needed
        const x = nchw(x0) && !(xs[1] === 1 && xs[2] === 1) ? asNhwc(x0, `${name}/x`) : ref(x0, `${name}/x`);
        if (target.length === 4) {
          const r = op('Reshape', [x, int64Init(`${name}/shape`, target)], `${name}/nhwc`);
          out = op('Transpose', [r], name, [attrInts('perm', [0, 3, 1, 2])]);
        } else out = op('Reshape', [x, int64Init(`${name}/shape`, target)], name);
        break;
      }
      case 'PadV2': {
        const p = n.attrs.paddings as number[][];
        const order = nchw(x0) ? [0, 3, 1, 2] : p.map((_, i) => i);
        const pads = [...order.map((a) => p[a][0]), ...order.map((a) => p[a][1])];
        out = op('Pad', [ref(x0, `${name}/x`), int64Init(`${name}/pads`, pads), floatInit(`${name}/value`, Float32Array.of(Number(n.attrs.constantValue ?? 0)), [])], name, [{ name: 'mode', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('constant') }]);
        break;
      }
      case 'AvgPool':
      case 'MaxPool': {
        const k = pair(n.attrs.filterSize);
        const s = pair(n.attrs.strides);
        const xs = g.value(x0).shape;
        const attrs = [attrInts('kernel_shape', k), attrInts('strides', s), attrInts('pads', spatialPads(n, n.attrs.pad, [xs[1], xs[2]], k, s, [1, 1]))];
        // tfjs (as TensorFlow) averages over the window's real pixels only
        if (n.op === 'AvgPool') attrs.push(attrInt('count_include_pad', 0));
        out = op(n.op === 'AvgPool' ? 'AveragePool' : 'MaxPool', [ref(x0, `${name}/x`)], name, attrs);
        break;
      }
      case 'Concat': {
        const rank = g.value(n.output).shape.length;
        let axis = Number(n.attrs.axis);
        if (axis < 0) axis += rank;
        const isNchw = rank === 4 && n.inputs.some(([, id]) => nchw(id));
        if (isNchw && n.inputs.some(([, id]) => g.isConst(id))) throw unsupported(n, 'concatenates a constant with 4-D activations');
        out = op('Concat', n.inputs.map(([k, id]) => ref(id, `${name}/${k}`)), name, [attrInt('axis', isNchw ? TO_NCHW[axis] : axis)]);
        break;
      }
      case 'Slice': {
        const xs = g.value(x0).shape;
        const os = g.value(n.output).shape;
        const begin = ([] as number[]).concat(n.attrs.begin as number[]);
        const axes: number[] = [];
        const starts: number[] = [];
        const ends: number[] = [];
        xs.forEach((d, a) => {
          const b = begin[a] ?? 0;
          if (b === 0 && os[a] === d) return; // the whole axis (the batch axis always)
          axes.push(nchw(x0) ? TO_NCHW[a] : a);
          starts.push(b);
          ends.push(b + os[a]);
        });
        out = axes.length === 0 ? op('Identity', [ref(x0, `${name}/x`)], name) : op('Slice', [ref(x0, `${name}/x`), int64Init(`${name}/starts`, starts), int64Init(`${name}/ends`, ends), int64Init(`${name}/axes`, axes)], name);
        break;
      }
      case 'Softmax': {
        const rank = g.value(n.output).shape.length;
        const dim = Number(n.attrs.dim ?? -1);
        if (dim !== -1 && dim !== rank - 1) throw unsupported(n, `takes a softmax over axis ${dim}, not the last`);
        out = op('Softmax', [ref(x0, `${name}/x`)], name, [attrInt('axis', nchw(x0) ? 1 : -1)]);
        break;
      }
      case 'ZerosLike':
        out = op('Mul', [ref(x0, `${name}/x`), floatInit(`${name}/zero`, Float32Array.of(0), [])], name);
        break;
      default: {
        const e = ELEMENTWISE[n.op];
        if (!e) throw unsupported(n, 'has no mapping');
        const ids = n.inputs.map(([, id]) => id);
        const anyNchw = ids.some(nchw);
        // a constant operand broadcasts against a 4-D activation: permuted with it
        for (const id of ids) if (anyNchw && !g.isConst(id) && !nchw(id) && g.value(id).shape.length > 0) throw unsupported(n, 'broadcasts a 4-D activation against a lower-rank one');
        out = op(e.onnx, n.inputs.map(([k, id]) => ref(id, `${name}/${k}`, anyNchw)), name);
      }
    }
    names.set(n.output, out);
  }
  const outShape = g.value(g.output).shape;
  const last = names.get(g.output) ?? ref(g.output, 'output');
  const outputName = unique('logits');
  nodes.push(onnx.NodeProto.create({ opType: nchw(g.output) ? 'Transpose' : 'Identity', input: [last], output: [outputName], name: outputName, attribute: nchw(g.output) ? [attrInts('perm', [0, 2, 3, 1])] : [] }));

  const dims = (shape: readonly number[]): onnxProto.onnx.TensorShapeProto.IDimension[] => shape.map((d, i) => (i === 0 ? { dimParam: 'batch' } : { dimValue: d }));
  const valueInfo = (name: string, shape: readonly number[]): onnxProto.onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims(shape) } } } });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: opts.producer ?? '@modnas/model-export',
    producerVersion: opts.version ?? '',
    docString: opts.docString ?? '',
    graph: {
      name: 'modnas',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(inputName, inShape.length === 4 ? [inShape[0], inShape[3], inShape[1], inShape[2]] : inShape)],
      output: [valueInfo(outputName, outShape)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
