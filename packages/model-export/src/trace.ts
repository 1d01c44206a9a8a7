/**
 * Tracing: run the network's forward pass once (eval mode) with tfjs' engine watched, and record
 * every kernel it launches. Any network whose forward is made of tfjs ops traces — backbones,
 * constructors' fixed ops, a user's own Module with a hand-written forward — with no per-layer
 * export code. Kernels whose inputs are all constants (a weight sliced by an elastic layer, a
 * mixed op's softmax over fixed alphas) are folded into constants as they run.
 */
import type { Module } from '@modnas/core';
import { ModnasError, Module as ModuleClass, tf } from '@modnas/core';
import { Graph } from './graph.js';

interface KernelParams {
  kernelName?: string;
  inputs: Record<string, tf.Tensor | null | undefined>;
  attrs?: Record<string, unknown>;
}

type RunKernelFunc = (params: KernelParams) => tf.Tensor | tf.Tensor[];

/**
 * Trace `model` on `example` (NHWC, batch >= 2 so that batch dims can be told apart). The model's
 * mode is left as it was; the trace runs it in eval mode.
 */
export function traceModel(model: Module, example: tf.Tensor4D): Graph {
  const g = new Graph();
  g.batch = example.shape[0];
  const paths = new Map<Module, string>([...model.modules()].map(([p, m]) => [m, p]));
  const weights = new Set<number>(model.parameters().concat(model.namedBuffers().map(([, v]) => v)).map((v) => v.id));
  const ids = new Map<number, string>();
  const scope: string[] = [];
  let depth = 0;

  /** Second and later outputs of multi-output kernels: no network here reads them, and no format node would name them. */
  const extra = new Map<number, string>();
  const valueOf = (t: tf.Tensor): string => {
    const known = ids.get(t.id);
    if (known) return known;
    const kernel = extra.get(t.id);
    if (kernel) {
      throw new ModnasError('MODNAS_E_EXPORT_UNSUPPORTED', `the forward pass reads the second output of a ${kernel} kernel (in ${scope[scope.length - 1] || 'the model'}), which export does not support`, {
        fix: 'use an op with one output there',
      });
    }
    // not produced by a recorded kernel: a constant (a weight, or a tensor made inside forward)
    const data = t.dtype === 'int32' ? Int32Array.from(t.dataSync() as Int32Array) : Float32Array.from(t.dataSync() as Float32Array);
    const id = g.addConst(data, [...t.shape], weights.has(t.id), weights.has(t.id) ? 'w' : 'c');
    ids.set(t.id, id);
    return id;
  };

  const engine = tf.engine() as unknown as { runKernelFunc: RunKernelFunc };
  const original = engine.runKernelFunc;
  const hadOwn = Object.prototype.hasOwnProperty.call(engine, 'runKernelFunc');
  const watched: RunKernelFunc = function (this: unknown, params) {
    // customGrad ops (no kernel name) run their forward through recorded kernels
    if (params.kernelName === undefined || depth > 0) return original.call(this, params);
    depth++;
    let out: tf.Tensor | tf.Tensor[];
    try {
      out = original.call(this, params);
    } finally {
      depth--;
    }
    const outs = Array.isArray(out) ? out : [out];
    const inputs: Array<[string, string]> = [];
    for (const [name, t] of Object.entries(params.inputs)) if (t) inputs.push([name, valueOf(t)]);
    const allConst = inputs.every(([, id]) => g.isConst(id));
    // one output per kernel is all the networks here use; more would need the node to name them
    const t = outs[0];
    for (const o of outs.slice(1)) extra.set(o.id, params.kernelName);
    if (allConst) {
      const data = t.dtype === 'int32' ? Int32Array.from(t.dataSync() as Int32Array) : Float32Array.from(t.dataSync() as Float32Array);
      ids.set(t.id, g.addConst(data, [...t.shape], inputs.length > 0 && inputs.every(([, id]) => g.value(id).weight === true), 'f'));
      return out;
    }
    const id = g.addValue([...t.shape], t.dtype === 'int32' ? 'int32' : 'float32');
    ids.set(t.id, id);
    g.nodes.push({ op: params.kernelName, inputs, attrs: { ...(params.attrs ?? {}) }, output: id, scope: scope[scope.length - 1] ?? '' });
    return out;
  };

  const proto = ModuleClass.prototype as { call: (this: Module, x: tf.Tensor) => tf.Tensor };
  const call = proto.call;
  proto.call = function (this: Module, x: tf.Tensor): tf.Tensor {
    const p = paths.get(this);
    if (p !== undefined) scope.push(p);
    try {
      return call.call(this, x);
    } finally {
      if (p !== undefined) scope.pop();
    }
  };
  const wasTraining = model.training;
  model.eval();
  engine.runKernelFunc = watched;
  try {
    g.input = g.addValue([...example.shape], 'float32', 'input');
    ids.set(example.id, g.input);
    tf.tidy(() => {
      const y = model.call(example);
      g.output = valueOf(y);
    });
  } finally {
    // the watcher was an own property shadowing the class's method: leave the engine as it was
    if (hadOwn) engine.runKernelFunc = original;
    else delete (engine as Partial<typeof engine>).runKernelFunc;
    proto.call = call;
    model.train(wasTraining);
  }
  return g;
}
