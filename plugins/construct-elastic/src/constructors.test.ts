import type { BuildContext, Module, StateTransformer } from '@modnas/core';
import { ArchSpace, Slot, tf } from '@modnas/core';
import type { MobileNetV2Row } from '@modnas/backbone-mobilenetv2';
import { MobileNetV2 } from '@modnas/backbone-mobilenetv2';
import { BatchNorm2d, countFlops } from '@modnas/nn';
import { MobileInvertedConv } from '@modnas/nn';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { elasticSchema, mobileNetV2ElasticConstructor, mobileNetV2ElasticKernelConstructor, mobileNetV2ElasticSequentialConstructor, mobileNetV2ElasticSpatialConstructor } from './constructors.js';
import type { ElasticMBConv } from '@modnas/kit-elastic';
import { elasticArchDesc, elasticBlocks, elasticStages, resetElastic, syncElastic } from '@modnas/kit-elastic';
import plugin from './index.js';

// A tiny MobileNetV2: stem 8, a fixed first block, a stage of 3 blocks (8 -> 8) and one of 2 (8 -> 16, stride 2).
const TABLE: MobileNetV2Row[] = [
  [0, 8, 1, 1],
  [1, 8, 1, 1],
  [6, 8, 3, 1],
  [6, 16, 2, 2],
];
const INPUT: [number, number, number] = [8, 8, 3];

/** Seeded uniform numbers, so the weights (BN statistics included) are not the trivial initial ones. */
function randomise(model: Module, seed: number): void {
  let s = seed;
  tf.tidy(() => {
    for (const [name, v] of model.stateDict()) {
      s++;
      if (name.endsWith('running_var')) v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', s));
      else if (name.endsWith('weight') && v.shape.length === 1) v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', s));
      else if (name.includes('ktm_')) v.assign(tf.add(tf.eye(v.shape[0]), tf.randomUniform(v.shape, -0.2, 0.2, 'float32', s)));
      else v.assign(tf.randomUniform(v.shape, -0.5, 0.5, 'float32', s));
    }
  });
}

/** The tiny net with every Slot filled: the first with the fixed 3x3 E1 block, the others with `k`x`k` E`e` blocks. */
function filledNet(table: MobileNetV2Row[], k: number, e: number): MobileNetV2 {
  const net = new MobileNetV2({ cfgs: table, numClasses: 4, dropoutRate: 0 });
  Slot.find(net).forEach(([, slot], i) => {
    slot.fill(i === 0 ? new MobileInvertedConv(slot.chnIn, slot.chnOut, slot.stride, { expansion: 1, kernelSize: 3 }) : new MobileInvertedConv(slot.chnIn, slot.chnOut, slot.stride, { expansion: e, kernelSize: k }));
  });
  return net;
}

async function applyCtor(def: { create: (...a: never[]) => unknown; schema: { parse(x: unknown): unknown } }, config: unknown, model: Module, ctx: BuildContext): Promise<void> {
  const t = (def.create as (c: unknown, ctx: BuildContext) => StateTransformer)(def.schema.parse(config), ctx);
  await t.apply(model, ctx);
}

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/**
 * Build the fixed network of the given subnet from the elastic one's weights, written out here
 * independently of ElasticMBConv: slices of the expand/BN/project weights and the depthwise kernel
 * as the centre crop, passed through the transformation matrices read from the elastic model.
 */
function fixedFrom(elastic: MobileNetV2, sub: { kernel: number; expansion: number; depths: number[] }, transform: boolean): MobileNetV2 {
  const table = TABLE.map((r) => [...r] as MobileNetV2Row);
  table[2][2] = sub.depths[0];
  table[3][2] = sub.depths[1];
  const fixed = filledNet(table, sub.kernel, sub.expansion);
  const src = elastic.stateDict();
  const blocks = new Map(elasticBlocks(elastic).map((b) => [b, b] as const));
  const slotOf = new Map(Slot.find(elastic).map(([p, s]) => [p, s]));
  for (const [name, dst] of fixed.stateDict()) {
    const s = src.get(name)!;
    expect(s, name).toBeDefined();
    const slotPath = [...slotOf.keys()].find((p) => name.startsWith(`${p}.impl.`));
    const block = slotPath ? (slotOf.get(slotPath)!.impl as ElasticMBConv) : undefined;
    if (!block || !blocks.has(block)) {
      dst.assign(s);
      continue;
    }
    const c = block.chnIn * sub.expansion;
    const local = name.slice(`${slotPath}.impl.`.length); // e.g. "3.weight"
    const idx = Number(local.split('.')[0]);
    tf.tidy(() => {
      if (idx === 0) dst.assign(tf.slice(s, [0, 0, 0, 0], [1, 1, block.chnIn, c]));
      else if (idx === 1 || idx === 4) dst.assign(tf.slice(s, [0], [c]));
      else if (idx === 3) {
        let w = s as tf.Tensor;
        let cur = block.maxKernel;
        for (const size of [5, 3]) {
          if (size < sub.kernel || size >= cur) continue;
          const off = (cur - size) / 2;
          w = tf.slice(w, [off, off, 0, 0], [size, size, block.maxWidth, 1]);
          if (transform) {
            const m = src.get(`${slotPath}.impl.ktm_${cur}to${size}`)!;
            const flat = tf.transpose(tf.reshape(w, [size * size, block.maxWidth]));
            w = tf.reshape(tf.transpose(tf.matMul(flat, m)), [size, size, block.maxWidth, 1]);
          }
          cur = size;
        }
        dst.assign(tf.slice(w, [0, 0, 0, 0], [sub.kernel, sub.kernel, c, 1]));
      } else if (idx === 6) dst.assign(tf.slice(s, [0, 0, 0, 0], [1, 1, c, block.chnOut]));
      else dst.assign(s);
    });
  }
  return fixed;
}

async function elasticNet(opts: { transform?: boolean; seed?: number } = {}) {
  const space = new ArchSpace();
  const ctx = makeBuildContext({ space });
  const net = filledNet(TABLE, 7, 6);
  await applyCtor(
    mobileNetV2ElasticConstructor,
    {
      spatial_kwargs: { expansion_range: [2, 4, 6] },
      sequential_kwargs: { repeat_range: [1, 2, 3] },
      kernel_kwargs: { kernel_range: [3, 5, 7], kernel_transform: opts.transform ?? true },
    },
    net,
    ctx,
  );
  randomise(net, opts.seed ?? 1);
  return { space, ctx, net, done: () => (net.dispose(), space.dispose()) };
}

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: Object.fromEntries(
    ['MobileNetV2ElasticConstructor', 'MobileNetV2ElasticSpatialConstructor', 'MobileNetV2ElasticSequentialConstructor', 'MobileNetV2ElasticKernelConstructor'].map((id) => [
      id,
      async (t: unknown) => {
        const space = new ArchSpace();
        const net = filledNet(TABLE, 5, 6);
        await (t as StateTransformer).apply(net, makeBuildContext({ space }));
        tf.tidy(() => {
          net.call(tf.ones([1, ...INPUT]));
        });
        net.dispose();
        space.dispose();
      },
    ]),
  ),
});

describe('elastic constructors', () => {
  it('at full size the elastic network is the original one: same outputs, same weight paths', async () => {
    const net = filledNet(TABLE, 7, 6);
    randomise(net, 3);
    const x = tf.randomNormal([2, ...INPUT], 0, 1, 'float32', 5);
    net.eval();
    const before = net.call(x);
    const paths = [...net.stateDict().keys()];
    const space = new ArchSpace();
    await applyCtor(mobileNetV2ElasticConstructor, { kernel_kwargs: { kernel_range: [3, 5, 7] } }, net, makeBuildContext({ space }));
    net.eval();
    const after = net.call(x);
    expect(maxDiff(before, after)).toBe(0);
    const now = [...net.stateDict().keys()];
    expect(now.filter((p) => !p.includes('ktm_'))).toEqual(paths);
    expect(now.filter((p) => p.includes('ktm_')).length).toBe(2 * 5); // 7to5 and 5to3 in each of the 5 searched blocks
    tf.dispose([x, before, after]);
    net.dispose();
    space.dispose();
  });

  it('makes one arch param per group, starting at the largest, and the params drive the modules', async () => {
    const { space, net, done } = await elasticNet();
    const names = space.names();
    expect(names.filter((n) => n.startsWith('seq_'))).toEqual(['seq_0', 'seq_1']);
    expect(names.filter((n) => n.startsWith('spa_'))).toHaveLength(5);
    expect(names.filter((n) => n.startsWith('ker_'))).toHaveLength(5);
    expect(space.assignment()).toMatchObject({ seq_0: 3, seq_1: 2, spa_0: 6, ker_0: 7 });
    expect(space.get('seq_0')).toMatchObject({ choices: [1, 2, 3] });
    expect(space.get('seq_1')).toMatchObject({ choices: [1, 2] }); // 3 dropped: the stage has 2 blocks
    expect(elasticArchDesc(net)).toEqual([null, 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6']);
    space.apply({ seq_0: 1, spa_1: 4, ker_1: 3, ker_3: 5, spa_3: 2 });
    const [b0, b1, , b3] = elasticBlocks(net);
    expect([b0.width, b0.kernel, b1.width, b1.kernel, b3.width, b3.kernel]).toEqual([48, 7, 32, 3, 16, 5]);
    expect(elasticStages(net).map((s) => s.depth)).toEqual([1, 2]);
    expect(elasticArchDesc(net)).toEqual([null, 'MB7E6', 'NIL', 'NIL', 'MB5E2', 'MB7E6']);
    // Direct changes (progressive shrinking) and back to the params.
    resetElastic(net);
    expect(elasticArchDesc(net)).toEqual([null, 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6', 'MB7E6']);
    syncElastic(net);
    expect(elasticArchDesc(net)).toEqual([null, 'MB7E6', 'NIL', 'NIL', 'MB5E2', 'MB7E6']);
    done();
  });

  for (const transform of [true, false]) {
    for (const sub of [
      { kernel: 5, expansion: 4, depths: [2, 1] },
      { kernel: 3, expansion: 2, depths: [1, 2] },
      { kernel: 7, expansion: 6, depths: [3, 1] },
    ]) {
      it(`a subnet (k${sub.kernel}, e${sub.expansion}, depths ${sub.depths}, ${transform ? 'kernel transforms' : 'centre crop'}) equals the fixed network built from the same weights`, async () => {
        const { net, done } = await elasticNet({ transform, seed: 7 });
        for (const b of elasticBlocks(net)) {
          b.setKernel(sub.kernel);
          b.setWidth(b.chnIn * sub.expansion);
        }
        elasticStages(net).forEach((s, i) => s.setDepth(sub.depths[i]));
        const fixed = fixedFrom(net, sub, transform);
        expect(fixed.numParams()).toBeLessThan(net.numParams());
        const x = tf.randomNormal([3, ...INPUT], 0, 1, 'float32', 11);
        // Evaluation (running statistics) ...
        net.eval();
        fixed.eval();
        const [ye, yf] = [net.call(x), fixed.call(x)];
        expect(maxDiff(ye, yf)).toBeLessThan(1e-4);
        expect(arr(ye).some((v) => Math.abs(v) > 1e-2)).toBe(true);
        // ... and training mode (batch statistics; the running statistics move alike).
        net.train();
        fixed.train();
        const [te, tfx] = [net.call(x), fixed.call(x)];
        expect(maxDiff(te, tfx)).toBeLessThan(1e-4);
        const sd = net.stateDict();
        for (const [name, v] of fixed.stateDict()) {
          if (!name.endsWith('running_mean')) continue;
          const e = sd.get(name)!;
          expect(maxDiff(tf.slice(e, [0], [v.shape[0]]), v), name).toBeLessThan(1e-5);
        }
        // Multiply-accumulates of the subnet are those of the fixed network.
        expect(countFlops(net, INPUT)).toBe(countFlops(fixed, INPUT));
        tf.dispose([x, ye, yf, te, tfx]);
        fixed.dispose();
        done();
      });
    }
  }

  it('ranks hidden channels by importance: full-width outputs unchanged, the kept channels are the most important', async () => {
    const { net, done } = await elasticNet({ seed: 13 });
    const x = tf.randomNormal([2, ...INPUT], 0, 1, 'float32', 2);
    net.eval();
    const y0 = net.call(x);
    const b = elasticBlocks(net)[0];
    const importance = arr(tf.tidy(() => tf.sum(tf.abs(b.proj.weight), [0, 1, 3])));
    const order = await b.sortChannels('l1_fan_in');
    expect(order).not.toEqual(order.map((_, i) => i));
    const sorted = arr(tf.tidy(() => tf.sum(tf.abs(b.proj.weight), [0, 1, 3])));
    expect(sorted).toEqual([...importance].sort((p, q) => q - p));
    const y1 = net.call(x);
    expect(maxDiff(y0, y1)).toBeLessThan(1e-4);
    // Shrunk to 16 channels it keeps the 16 with the largest importance.
    const top = new Set(order.slice(0, 16));
    expect(importance.map((v, i) => [v, i]).sort((p, q) => q[0] - p[0]).slice(0, 16).every(([, i]) => top.has(i))).toBe(true);
    tf.dispose([x, y0, y1]);
    done();
  });

  it('gradients reach the kernel transformation matrices of an active smaller kernel, and nothing leaks', async () => {
    const { net, done } = await elasticNet();
    const b = elasticBlocks(net)[0];
    b.setKernel(3);
    b.setWidth(16);
    net.train();
    const x = tf.randomNormal([2, ...INPUT], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    const norms = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean<tf.Scalar>(tf.square(net.call(x))), net.parameters());
      return [b.transformMatrix(7, 5)!, b.transformMatrix(5, 3)!, elasticBlocks(net)[1].transformMatrix(7, 5)!].map((m) => tf.norm(grads[m.name] ?? tf.zeros([1])).dataSync()[0]);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(norms[0]).toBeGreaterThan(0);
    expect(norms[1]).toBeGreaterThan(0);
    expect(norms[2]).toBe(0); // that block runs its full 7x7 kernel
    x.dispose();
    done();
  });

  it('the separate constructors do one dimension each; search: false adds no params', async () => {
    const space = new ArchSpace();
    const ctx = makeBuildContext({ space });
    const net = filledNet(TABLE, 5, 6);
    await applyCtor(mobileNetV2ElasticSpatialConstructor, { expansion_range: [3, 6] }, net, ctx);
    expect(space.names()).toEqual(['spa_0', 'spa_1', 'spa_2', 'spa_3', 'spa_4']);
    await applyCtor(mobileNetV2ElasticSequentialConstructor, { search: false }, net, ctx);
    expect(space.names()).toHaveLength(5);
    expect(elasticStages(net).map((s) => s.maxDepth)).toEqual([3, 2]);
    await applyCtor(mobileNetV2ElasticKernelConstructor, { kernel_range: [3, 5, 7] }, net, ctx);
    expect(space.names().filter((n) => n.startsWith('ker_'))).toHaveLength(5);
    expect(space.get('ker_0')).toMatchObject({ choices: [3, 5] }); // 7 dropped: the blocks are 5x5
    // The first block stays the fixed one.
    expect(Slot.find(net)[0][1].impl).toBeInstanceOf(MobileInvertedConv);
    net.dispose();
    space.dispose();
  });

  it('says what to do when Slots are empty or the first block is made elastic in width', async () => {
    const space = new ArchSpace();
    const ctx = makeBuildContext({ space });
    const empty = new MobileNetV2({ cfgs: TABLE, numClasses: 4 });
    await expect(applyCtor(mobileNetV2ElasticConstructor, {}, empty, ctx)).rejects.toThrow(/MobileNetV2PredefinedConstructor/);
    const net = filledNet(TABLE, 3, 6);
    await expect(applyCtor(mobileNetV2ElasticSpatialConstructor, { fix_first: false }, net, ctx)).rejects.toThrow(/fix_first/);
    empty.dispose();
    net.dispose();
    space.dispose();
  });

  it('defaults parse with nested defaults; null leaves a dimension out', () => {
    const c = elasticSchema.parse({});
    expect(c.spatial_kwargs).toEqual({ fix_first: true, expansion_range: [1, 3, 6], rank_fn: 'l1_fan_in' });
    expect(c.kernel_kwargs?.kernel_transform).toBe(true);
    expect(elasticSchema.parse({ kernel_kwargs: null }).kernel_kwargs).toBeNull();
    expect(elasticSchema.safeParse({ spatial_kwargs: { nope: 1 } }).success).toBe(false);
    expect(BatchNorm2d).toBeDefined();
  });
});
