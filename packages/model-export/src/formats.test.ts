import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { Module, Sequential, tf } from '@modnas/core';
import { AvgPool2d, BatchNorm2d, Conv2d, ConvBNAct, GlobalAvgPool, Linear, ReLU, Zero } from '@modnas/nn';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Graph } from './graph.js';
import { toOnnx } from './onnx.js';
import { toInference } from './passes.js';
import { toTfjs } from './tfjs.js';
import { traceModel } from './trace.js';

/** Random running statistics and affine weights, so that folding batch norm has something to get wrong. */
function randomizeBatchNorms(m: Module, seed = 1): void {
  let s = seed;
  for (const [, mod] of m.modules()) {
    if (!(mod instanceof BatchNorm2d)) continue;
    const c = mod.channels;
    mod.runningMean.assign(tf.randomNormal([c], 0, 0.5, 'float32', s++));
    mod.runningVar.assign(tf.randomUniform([c], 0.5, 2, 'float32', s++));
    mod.gamma?.assign(tf.randomUniform([c], 0.5, 1.5, 'float32', s++));
    mod.beta?.assign(tf.randomNormal([c], 0, 0.3, 'float32', s++));
  }
}

/** Every construct the first-party networks use: strided and dilated convs with explicit padding, depthwise, BN after conv and after pooling, skip adds, NIL zeros, a factorized reduce (pad + slice + concat), pools, AddN, mean, linear. */
class Everything extends Module {
  stem = this.addModule('stem', new ConvBNAct(3, 8, { kernelSize: 3, stride: 1 }));
  dw = this.addModule('dw', new ConvBNAct(8, 8, { kernelSize: 5, stride: 2, groups: 8, act: 'relu' }));
  pw = this.addModule('pw', new ConvBNAct(8, 8, { kernelSize: 1, act: 'none' }));
  dil = this.addModule('dil', new Conv2d(8, 8, { kernelSize: 3, dilation: 2, bias: true }));
  dilBn = this.addModule('dilBn', new BatchNorm2d(8));
  pool = this.addModule('pool', new AvgPool2d(3, 1, 'same'));
  poolBn = this.addModule('poolBn', new BatchNorm2d(8, { affine: false }));
  nil = this.addModule('nil', new Zero(8, 1));
  relu = this.addModule('relu', new ReLU());
  reduce1 = this.addModule('reduce1', new Conv2d(8, 4, { kernelSize: 1, stride: 2, padding: 0 }));
  reduce2 = this.addModule('reduce2', new Conv2d(8, 4, { kernelSize: 1, stride: 2, padding: 0 }));
  gap = this.addModule('gap', new GlobalAvgPool());
  head = this.addModule('head', new Linear(8, 10));

  forward(x: tf.Tensor): tf.Tensor {
    let h = this.pw.call(this.dw.call(this.stem.call(x)));
    h = tf.add(h, this.nil.call(h));
    const d = this.dilBn.call(this.dil.call(h));
    const p = this.poolBn.call(this.pool.call(h));
    const m = tf.maxPool(h as tf.Tensor4D, 3, 1, 'same');
    h = tf.addN([h, d, p, m]);
    // DARTS' factorized reduce: two strided 1x1 convs, one on the input shifted by a pixel
    const r = this.relu.call(h) as tf.Tensor4D;
    const [, hh, ww] = r.shape;
    const shifted = tf.pad(tf.slice(r, [0, 1, 1, 0], [-1, hh - 1, ww - 1, -1]), [[0, 0], [0, 1], [0, 1], [0, 0]]);
    h = tf.concat([this.reduce1.call(r), this.reduce2.call(shifted)], 3);
    const flat = tf.reshape(tf.mean(h, [1, 2], true), [-1, 8]);
    return this.head.call(tf.add(this.gap.call(h), flat));
  }
}

function images(n: number, h = 12, w = 12, c = 3, seed = 7): tf.Tensor4D {
  return tf.randomNormal([n, h, w, c], 0, 1, 'float32', seed);
}

async function runTfjs(g: Graph, x: tf.Tensor4D): Promise<Float32Array> {
  const m = toTfjs(g);
  const parts = m.shards.map((s) => s.data);
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const json = JSON.parse(JSON.stringify(m.modelJson)) as typeof m.modelJson;
  const model = await loadGraphModel({
    load: async () => ({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: all.buffer, format: json.format, signature: json.signature as never }),
  });
  try {
    const y = model.execute(x) as tf.Tensor;
    const out = Float32Array.from(y.dataSync());
    y.dispose();
    return out;
  } finally {
    model.dispose();
  }
}

async function runOnnx(g: Graph, x: tf.Tensor4D): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(toOnnx(g));
  const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]));
  const [n, c, h, w] = nchw.shape;
  const res = await session.run({ input: new ort.Tensor('float32', Float32Array.from(nchw.dataSync()), [n, c, h, w]) });
  nchw.dispose();
  await session.release();
  return Float32Array.from(res.logits.data as Float32Array);
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function reference(m: Module, x: tf.Tensor4D): Float32Array {
  m.eval();
  return tf.tidy(() => Float32Array.from(m.call(x).dataSync()));
}

describe('model export: trace, inference passes, TensorFlow.js graph model and ONNX', () => {
  const net = new Everything();
  randomizeBatchNorms(net);
  const ex = images(5);
  const graph = toInference(traceModel(net, ex));
  ex.dispose();

  it('folds every batch norm that follows a convolution, and the activations after them', () => {
    const ops = graph.nodes.map((n) => n.op);
    expect(ops).not.toContain('FusedBatchNorm');
    expect(ops).not.toContain('Relu6');
    // the one batch norm after a pooling becomes a multiply and an add
    expect(ops.filter((o) => o === 'Multiply')).toHaveLength(1);
    const convs = graph.nodes.filter((n) => n.op === 'Conv2D' || n.op === 'DepthwiseConv2dNative');
    expect(convs.filter((n) => graph.in(n, 'bias') !== undefined).map((n) => n.scope).sort()).toEqual(['dil', 'dw.conv', 'pw.conv', 'stem.conv']);
    expect(graph.nodes.find((n) => n.scope === 'stem.conv')?.attrs.activation).toBe('Relu6');
    // the NIL zeros added to the skip are gone, so no constant carries the trace's batch size
    expect(graph.nodes.some((n) => n.scope === 'nil')).toBe(false);
  });

  for (const n of [1, 3, 7]) {
    it(`runs in tfjs-converter and onnxruntime-node as in @modnas, at batch ${n} (traced at 5)`, async () => {
      const x = images(n, 12, 12, 3, 100 + n);
      const want = reference(net, x);
      expect(maxDiff(await runTfjs(graph, x), want)).toBeLessThan(1e-4);
      expect(maxDiff(await runOnnx(graph, x), want)).toBeLessThan(1e-4);
      x.dispose();
    });
  }

  it('keeps the module path of each op for names and errors', () => {
    expect(new Set(graph.nodes.map((n) => n.scope))).toContain('head');
    const json = JSON.stringify(toTfjs(graph).modelJson.modelTopology);
    expect(json).toContain('"name":"stem/conv/Conv2D"');
  });

  it('leaves the engine and the model as they were', () => {
    const m = new Sequential([new ConvBNAct(3, 4, { kernelSize: 3 })]);
    m.train();
    const before = tf.memory().numTensors;
    const x = images(5, 6, 6, 3);
    traceModel(m, x);
    x.dispose();
    expect(m.training).toBe(true);
    expect(Object.prototype.hasOwnProperty.call(tf.engine(), 'runKernelFunc')).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('refuses an op a format cannot express, naming the layer and the format', () => {
    class Odd extends Module {
      conv = this.addModule('conv', new Conv2d(3, 4, { kernelSize: 1 }));
      forward(x: tf.Tensor): tf.Tensor {
        return tf.cumsum(this.conv.call(x), 3);
      }
    }
    const m = new Odd();
    const x = images(5, 4, 4, 3);
    const g = toInference(traceModel(m, x));
    x.dispose();
    expect(() => toTfjs(g)).toThrow(/layer \(model\): its Cumsum kernel has no mapping, which the TensorFlow.js graph model format cannot express/);
    expect(() => toOnnx(g)).toThrow(expect.objectContaining({ code: 'MODNAS_E_EXPORT_UNSUPPORTED', message: expect.stringMatching(/Cumsum kernel .* ONNX export/) }));
    m.dispose();
  });

  it('refuses a tensor made in forward with the batch size in it, naming the layer', () => {
    class Pinned extends Module {
      inner = this.addModule('inner', new (class extends Module {
        forward(x: tf.Tensor): tf.Tensor {
          return tf.mul(x, tf.fill(x.shape, 2));
        }
      })());
      forward(x: tf.Tensor): tf.Tensor {
        return this.inner.call(x);
      }
    }
    const m = new Pinned();
    const x = images(5, 4, 4, 3);
    expect(() => toInference(traceModel(m, x))).toThrow(expect.objectContaining({ code: 'MODNAS_E_EXPORT_BATCH', message: expect.stringContaining('layer inner:') }));
    x.dispose();
  });
});
