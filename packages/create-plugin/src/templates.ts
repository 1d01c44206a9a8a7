/**
 * The templates of a plugin package, one per kind: each a small working component (so the generated
 * package's tests pass as generated), its behaviour test, and its README's use and options.
 * Placeholders: __ID__ (registry id), __VAR__ (camelCase id), __CLASS__ (PascalCase id).
 */

export interface KindTemplate {
  /** The component file (src/<kebab id>.ts). */
  source: string;
  /** Imports of the behaviour test (beyond vitest and the component file). */
  testImports: string;
  /** The behaviour test's body (inside describe(id)). */
  test: string;
  /** Why the conformance suite skips this kind's create() until it is written (one skipCreate entry per id). */
  skipCreate?: string;
  /** Where it goes in an experiment config (YAML). */
  use: string;
  /** The options table rows: [key, type, default, description]. */
  options: Array<[string, string, string, string]>;
  /** One sentence on what it does. */
  summary: string;
}

const optim: KindTemplate = {
  summary: 'Simulated annealing over the discrete arch params: a neighbour (one param changed) is accepted if better, or with probability exp(delta / T) if worse; T cools geometrically.',
  source: `import type { Assignment, DiscreteParam, SearchOptimizer, TrialResult } from '@modnas/core';
import { Rng, defineComponent, z } from '@modnas/core';

export const __VAR__Schema = z.strictObject({
  seed: z.number().int().nonnegative().default(0).describe('Seed of the proposals and acceptances'),
  t0: z.number().positive().default(1).describe('Initial temperature, in units of the score'),
  cooling: z.number().gt(0).lt(1).default(0.97).describe('Temperature factor per evaluated candidate'),
});

/**
 * Simulated annealing over the discrete space: propose a neighbour (one param changed), accept it
 * if better, or with probability exp(delta / T) if worse; T cools geometrically.
 */
export const __VAR__ = defineComponent({
  kind: 'optim',
  id: '__ID__',
  description: 'Simulated annealing over the discrete arch params',
  schema: __VAR__Schema,
  create(c, ctx): SearchOptimizer {
    let rng = new Rng(c.seed);
    let temp = c.t0;
    let current: TrialResult | undefined;
    const params = (): DiscreteParam[] => ctx.space.discrete();
    const neighbour = (a: Assignment): Assignment => {
      const ps = params().filter((p) => p.cardinality > 1);
      if (ps.length === 0) return { ...a };
      const p = rng.pick(ps);
      const cur = p.indexOf(a[p.name]);
      const next = (cur + 1 + rng.int(p.cardinality - 1)) % p.cardinality;
      return { ...a, [p.name]: p.valueAt(next) };
    };
    return {
      hasNext: () => params().length > 0,
      next: (n) => Array.from({ length: n }, () => (current ? neighbour(current.arch) : ctx.space.random(rng))),
      step({ results }) {
        for (const r of results) {
          const accept = !current || r.score >= current.score || rng.next() < Math.exp((r.score - current.score) / temp);
          if (accept) current = r;
          temp *= c.cooling;
        }
      },
      // everything next() depends on, as plain JSON (the conformance suite restores it into a fresh instance)
      state: () => ({ rng: rng.getState(), temp, current }),
      restore(s) {
        const st = s as { rng: number; temp: number; current?: TrialResult };
        rng = new Rng(0);
        rng.setState(st.rng);
        temp = st.temp;
        current = st.current;
      },
    };
  },
});
`,
  testImports: `import type { Assignment } from '@modnas/core';
import { ArchSpace } from '@modnas/core';
import { bestOf, makeBuildContext } from '@modnas/testkit';`,
  test: `  it('reaches the optimum of a toy space (6 params of 4 values, the score counts those set to 3) within 200 queries, for 5 seeds', async () => {
    const score = (a: Assignment): number => Object.values(a).filter((v) => v === 3).length;
    for (let seed = 0; seed < 5; seed++) {
      const space = new ArchSpace();
      for (let i = 0; i < 6; i++) space.categorical({ name: 'p' + i, choices: [0, 1, 2, 3] });
      const optim = await __VAR__.create(__VAR__.schema.parse({ seed, t0: 0.5 }), makeBuildContext({ space }), undefined);
      expect(bestOf(optim, score, 200), 'seed ' + seed).toBe(6);
    }
  });`,
  use: `optim:
  type: __ID__
  t0: 1
  cooling: 0.97`,
  options: [
    ['seed', 'integer', '0', 'Seed of the proposals and acceptances'],
    ['t0', 'number', '1', 'Initial temperature, in units of the score'],
    ['cooling', 'number', '0.97', 'Temperature factor per evaluated candidate'],
  ],
};

const mixedOp: KindTemplate = {
  summary: 'A differentiable mixed op: the candidates\' outputs weighted by softmax(α), α a tensor arch param that gradient optimizers (DARTS) train.',
  source: `import type { ComponentSpec, TensorParam } from '@modnas/core';
import { Module, defineComponent, tf, z } from '@modnas/core';

export const __VAR__Schema = z.strictObject({
  primitives: z
    .array(z.union([z.string(), z.looseObject({ type: z.string() })]))
    .default([])
    .describe('The candidate ops: primitive ids, or { type, ...options }'),
});

/** y = Σ_i softmax(α)_i f_i(x) over the candidates f_i. */
export class __CLASS__ extends Module {
  constructor(
    readonly alpha: TensorParam,
    readonly candidates: Module[],
  ) {
    super();
    candidates.forEach((c, i) => this.addModule(String(i), c));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const w = tf.softmax(this.alpha.variable);
    return tf.addN(this.candidates.map((c, i) => tf.mul(c.call(x), tf.slice(w, [i], [1]))));
  }
}

export const __VAR__ = defineComponent({
  kind: 'mixed-op',
  id: '__ID__',
  description: 'The candidates weighted by softmax of a learned α (differentiable)',
  schema: __VAR__Schema,
  async create(c, ctx, slot) {
    const candidates = await Promise.all(c.primitives.map((p, i) => ctx.build('primitive', p as ComponentSpec | string, slot, ctx.where + '.primitives[' + i + ']')));
    const alpha = ctx.space.tensor({ shape: [candidates.length], init: 'normal' }, 'alpha');
    return new __CLASS__(alpha, candidates);
  },
});
`,
  testImports: `import { tf } from '@modnas/core';
import { TestLinOp, makeBuildContext, registerTestPrimitives } from '@modnas/testkit';
import type { __CLASS__ } from './__FILE__.js';`,
  test: `  it('is the softmax(α)-weighted sum of its candidates', async () => {
    registerTestPrimitives();
    const ctx = makeBuildContext();
    const slot = { chnIn: 3, chnOut: 5, stride: 1 };
    const op = (await __VAR__.create(__VAR__.schema.parse({ primitives: ['TestLin', { type: 'TestLin', seed: 1 }] }), ctx, slot)) as __CLASS__;
    op.alpha.assign([0.3, -0.2]);
    const refs = [new TestLinOp(slot, 0), new TestLinOp(slot, 1)];
    const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 1);
    const w = [Math.exp(0.3), Math.exp(-0.2)].map((e, _, all) => e / (all[0] + all[1]));
    const got = op.call(x).arraySync() as number[][][][];
    const want = tf.add(tf.mul(refs[0].call(x), w[0]), tf.mul(refs[1].call(x), w[1])).arraySync() as number[][][][];
    expect(Math.max(...got.flat(3).map((v, i) => Math.abs(v - want.flat(3)[i])))).toBeLessThan(1e-5);
    op.dispose();
    ctx.space.dispose();
  });`,
  use: `construct:
  - type: DefaultMixedOpConstructor
    mixed_op: { type: __ID__ }
    primitives: [MB3E3, MB3E6, IDT]`,
  options: [['primitives', 'array', '[]', 'The candidate ops: primitive ids, or { type, ...options }']],
};

const primitive: KindTemplate = {
  summary: 'A candidate op: a 1x1 convolution (with the Slot\'s stride) and a ReLU.',
  source: `import type { SlotSpec } from '@modnas/core';
import { Module, defineComponent, tf, z } from '@modnas/core';

export const __VAR__Schema = z.strictObject({
  relu: z.boolean().default(true).describe('Apply a ReLU after the convolution'),
});

/** y = relu(conv1x1(x)) with the Slot's channels and stride. */
export class __CLASS__ extends Module {
  readonly w: tf.Variable;

  constructor(
    readonly slot: SlotSpec,
    readonly relu: boolean,
    init: tf.Tensor4D,
  ) {
    super();
    this.w = this.addParam('w', init);
  }

  forward(x: tf.Tensor): tf.Tensor {
    const y = tf.conv2d(x as tf.Tensor4D, this.w as tf.Tensor4D, this.slot.stride, 'same');
    return this.relu ? tf.relu(y) : y;
  }
}

export const __VAR__ = defineComponent({
  kind: 'primitive',
  id: '__ID__',
  description: 'A 1x1 convolution with the Slot\\'s stride, then a ReLU',
  schema: __VAR__Schema,
  create(c, ctx, slot) {
    // He initialisation, from the build's seeded stream (runs are reproducible)
    const std = Math.sqrt(2 / slot.chnIn);
    const init = tf.tensor4d(Array.from({ length: slot.chnIn * slot.chnOut }, () => ctx.rng.normal() * std), [1, 1, slot.chnIn, slot.chnOut]);
    return new __CLASS__(slot, c.relu, init);
  },
});
`,
  testImports: `import { tf } from '@modnas/core';
import { makeBuildContext } from '@modnas/testkit';`,
  test: `  it('maps chnIn to chnOut channels with the Slot\\'s stride, and is non-negative', async () => {
    const ctx = makeBuildContext();
    const op = await __VAR__.create(__VAR__.schema.parse({}), ctx, { chnIn: 4, chnOut: 6, stride: 2 });
    const y = op.call(tf.randomNormal([2, 8, 8, 4]));
    expect(y.shape).toEqual([2, 4, 4, 6]);
    expect(tf.min(y).dataSync()[0]).toBeGreaterThanOrEqual(0);
    op.dispose();
  });`,
  use: `construct:
  - type: DefaultMixedOpConstructor
    primitives: [__ID__, MB3E3, IDT]`,
  options: [['relu', 'boolean', 'true', 'Apply a ReLU after the convolution']],
};

const backbone: KindTemplate = {
  summary: 'A small searchable CNN: a 3x3 stem, two Slots that a constructor fills (mixed ops, fixed ops), global average pooling and a linear classifier.',
  source: `import { Module, Rng, Slot, defineComponent, tf, z } from '@modnas/core';

export const __VAR__Schema = z.strictObject({
  width: z.number().int().positive().default(8).describe('Channels of the stem (the Slots have twice as many)'),
  seed: z.number().int().nonnegative().default(0).describe('Seed of the initial weights'),
});

/** stem (3x3 conv, ReLU) -> Slot (stride 2) -> Slot -> global average pool -> linear. */
export class __CLASS__ extends Module {
  readonly stem: tf.Variable;
  readonly s1: Slot;
  readonly s2: Slot;
  readonly head: tf.Variable;
  readonly bias: tf.Variable;

  constructor(chnIn: number, numClasses: number, width: number, seed: number) {
    super();
    const rng = new Rng(seed);
    const normal = (n: number, fanIn: number): number[] => Array.from({ length: n }, () => rng.normal() * Math.sqrt(2 / fanIn));
    this.stem = this.addParam('stem', tf.tensor4d(normal(9 * chnIn * width, 9 * chnIn), [3, 3, chnIn, width]));
    // a Slot marks a searchable layer: a constructor fills it (a mixed op while searching, the chosen op after)
    this.s1 = this.addModule('s1', new Slot({ chnIn: width, chnOut: 2 * width, stride: 2 }));
    this.s2 = this.addModule('s2', new Slot({ chnIn: 2 * width, chnOut: 2 * width, stride: 1 }));
    this.head = this.addParam('head', tf.tensor2d(normal(2 * width * numClasses, 2 * width), [2 * width, numClasses]));
    this.bias = this.addParam('bias', tf.zeros([numClasses]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    const h = this.s2.call(this.s1.call(tf.relu(tf.conv2d(x as tf.Tensor4D, this.stem as tf.Tensor4D, 1, 'same'))));
    return tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, this.head), this.bias);
  }
}

export const __VAR__ = defineComponent({
  kind: 'backbone',
  id: '__ID__',
  description: 'A small CNN with two searchable Slots',
  schema: __VAR__Schema,
  create: (c, _ctx, input) => new __CLASS__(input?.inputShape?.[2] ?? 3, input?.numClasses ?? 10, c.width, c.seed),
});
`,
  testImports: `import { Slot, tf } from '@modnas/core';
import { fillEmptySlots, makeBuildContext } from '@modnas/testkit';`,
  test: `  it('has two Slots (stride 2, then 1) and, filled, classifies into numClasses', async () => {
    const net = await __VAR__.create(__VAR__.schema.parse({ width: 4 }), makeBuildContext(), { numClasses: 3, inputShape: [8, 8, 1] });
    expect(Slot.find(net).map(([, s]) => [s.chnIn, s.chnOut, s.stride])).toEqual([[4, 8, 2], [8, 8, 1]]);
    expect(fillEmptySlots(net)).toBe(2);
    expect(net.call(tf.randomNormal([2, 8, 8, 1])).shape).toEqual([2, 3]);
    net.dispose();
  });`,
  use: `model:
  type: __ID__
  width: 8
construct:
  - type: DefaultMixedOpConstructor
    mixed_op: { type: WeightedSum }
    primitives: [MB3E3, MB3E6, IDT]`,
  options: [
    ['width', 'integer', '8', 'Channels of the stem (the Slots have twice as many)'],
    ['seed', 'integer', '0', 'Seed of the initial weights'],
  ],
};

const estim: KindTemplate = {
  summary: 'Evaluates the optimizer\'s candidates one at a time by validation accuracy (no training), feeding each result back.',
  source: `import type { EstimResult, StateEstimator, TrialResult } from '@modnas/core';
import { defineComponent, tf, z } from '@modnas/core';

export const __VAR__Schema = z.strictObject({
  candidates: z.number().int().positive().default(4).describe('Candidates to evaluate'),
  batch_size: z.number().int().positive().default(32).describe('Batch size of the evaluation'),
});

/** Accuracy of the model on the validation split, for the current architecture. */
async function accuracy(ctx: Parameters<StateEstimator['run']>[0], batchSize: number): Promise<number> {
  let correct = 0;
  let count = 0;
  for (const b of ctx.data.valid.batches(batchSize)) {
    const r = await ctx.trainer.evalStep(ctx.model, b);
    tf.dispose([b.x, b.y]);
    correct += r.correct;
    count += r.count;
  }
  return count === 0 ? 0 : correct / count;
}

export const __VAR__ = defineComponent({
  kind: 'estim',
  id: '__ID__',
  description: 'Evaluates candidates by validation accuracy, without training',
  schema: __VAR__Schema,
  create: (c): StateEstimator => ({
    async run(ctx): Promise<EstimResult> {
      ctx.model.train(false);
      let best: TrialResult | undefined;
      for (let i = 0; i < c.candidates && ctx.optim?.hasNext(); i++) {
        const [arch] = ctx.optim.next(1);
        ctx.space.apply(arch);
        const acc = await accuracy(ctx, c.batch_size);
        const result: TrialResult = { arch, score: acc, metrics: { acc } };
        if (!best || acc > best.score) best = result;
        await ctx.optim.step({ results: [result] });
      }
      if (!ctx.optim) return { metrics: { acc: await accuracy(ctx, c.batch_size) } };
      return { best, metrics: { best_acc: best?.score ?? 0, candidates: c.candidates } };
    },
  }),
});
`,
  testImports: `import type { TrialResult } from '@modnas/core';
import { ArchSpace } from '@modnas/core';
import { TinySgdTrainer, makeBuildContext, makeEstimContext, tinyRandomOptim, tinySearchNet } from '@modnas/testkit';`,
  test: `  it('evaluates the candidates, feeds each result back and reports the best', async () => {
    const space = new ArchSpace();
    space.categorical({ name: 'op', choices: [1, 2] });
    const model = tinySearchNet(space);
    const optim = tinyRandomOptim(space);
    const fed: TrialResult[] = [];
    const step = optim.step.bind(optim);
    optim.step = (fb) => (fed.push(...fb.results), step(fb));
    const estim = await __VAR__.create(__VAR__.schema.parse({ candidates: 3 }), makeBuildContext({ space }), undefined);
    const r = await estim.run(makeEstimContext({ model, space, trainer: new TinySgdTrainer(), optim }));
    expect(fed).toHaveLength(3);
    for (const t of fed) expect(t.score).toBeGreaterThanOrEqual(0);
    expect(r.best?.score).toBe(Math.max(...fed.map((t) => t.score)));
    model.dispose();
    space.dispose();
  });`,
  use: `estim:
  search:
    type: __ID__
    candidates: 4`,
  options: [
    ['candidates', 'integer', '4', 'Candidates to evaluate'],
    ['batch_size', 'integer', '32', 'Batch size of the evaluation'],
  ],
};

const dataset: KindTemplate = {
  summary: 'A synthetic image dataset whose class is encoded in the mean brightness of the first channel (learnable in a few steps).',
  source: `import type { Batch, BatchOptions, DataSplit, Dataset } from '@modnas/core';
import { Rng, defineComponent, tf, z } from '@modnas/core';

export const __VAR__Schema = z.strictObject({
  size: z.number().int().positive().default(64).describe('Training examples'),
  test_size: z.number().int().nonnegative().default(16).describe('Test examples'),
  image_size: z.number().int().positive().default(8).describe('Height and width of an image'),
  num_classes: z.number().int().min(2).default(4).describe('Number of classes'),
  seed: z.number().int().nonnegative().default(0).describe('Seed of the examples'),
});

/** Examples held as flat arrays; batches are new tensors that the caller disposes. */
class ArraySplit implements DataSplit {
  constructor(
    private readonly images: Float32Array,
    private readonly labels: Int32Array,
    private readonly shape: [number, number, number],
  ) {}

  get size(): number {
    return this.labels.length;
  }

  *batches(batchSize: number, opts: BatchOptions = {}): Iterable<Batch> {
    const order = Array.from({ length: this.size }, (_, i) => i);
    if (opts.shuffle && opts.rng) opts.rng.shuffle(order);
    const per = this.shape[0] * this.shape[1] * this.shape[2];
    for (let at = 0; at < order.length; at += batchSize) {
      const ids = order.slice(at, at + batchSize);
      if (opts.dropLast && ids.length < batchSize) break;
      const px = new Float32Array(ids.length * per);
      ids.forEach((id, j) => px.set(this.images.subarray(id * per, (id + 1) * per), j * per));
      yield { x: tf.tensor4d(px, [ids.length, ...this.shape]), y: tf.tensor1d(ids.map((id) => this.labels[id]), 'int32') };
    }
  }

  subset(indices: readonly number[]): DataSplit {
    const per = this.shape[0] * this.shape[1] * this.shape[2];
    const px = new Float32Array(indices.length * per);
    indices.forEach((id, j) => px.set(this.images.subarray(id * per, (id + 1) * per), j * per));
    return new ArraySplit(px, Int32Array.from(indices, (id) => this.labels[id]), this.shape);
  }
}

function makeSplit(n: number, shape: [number, number, number], classes: number, rng: Rng): ArraySplit {
  const per = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(classes);
    for (let j = 0; j < per; j++) images[i * per + j] = (j % shape[2] === 0 ? (labels[i] + 0.5) / classes : 0.5) + 0.1 * rng.normal();
  }
  return new ArraySplit(images, labels, shape);
}

export const __VAR__ = defineComponent({
  kind: 'dataset',
  id: '__ID__',
  description: 'Synthetic images whose class is the brightness of the first channel',
  schema: __VAR__Schema,
  create(c): Dataset {
    const rng = new Rng(c.seed);
    const shape: [number, number, number] = [c.image_size, c.image_size, 3];
    return { name: '__ID__', inputShape: shape, numClasses: c.num_classes, train: makeSplit(c.size, shape, c.num_classes, rng), test: makeSplit(c.test_size, shape, c.num_classes, rng) };
  },
});
`,
  testImports: `import { tf } from '@modnas/core';
import { makeBuildContext } from '@modnas/testkit';`,
  test: `  it('yields every example once in batches of the input shape, labels in range', async () => {
    const d = await __VAR__.create(__VAR__.schema.parse({ size: 10, num_classes: 3 }), makeBuildContext(), undefined);
    const before = tf.memory().numTensors;
    let seen = 0;
    for (const b of d.train.batches(4)) {
      expect(b.x.shape.slice(1)).toEqual(d.inputShape);
      expect(Math.max(...b.y.dataSync())).toBeLessThan(3);
      seen += b.y.shape[0];
      tf.dispose([b.x, b.y]);
    }
    expect(seen).toBe(10);
    expect(d.train.subset([0, 2]).size).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });`,
  use: `data:
  type: __ID__
  size: 64`,
  options: [
    ['size', 'integer', '64', 'Training examples'],
    ['test_size', 'integer', '16', 'Test examples'],
    ['image_size', 'integer', '8', 'Height and width of an image'],
    ['num_classes', 'integer', '4', 'Number of classes'],
    ['seed', 'integer', '0', 'Seed of the examples'],
  ],
};

/** Any other kind: the component's shape, with create() left to write. */
function generic(kind: string): KindTemplate {
  return {
    summary: `A ${kind} component (fill in create()).`,
    source: `import { defineComponent, z } from '@modnas/core';

export const __VAR__Schema = z.strictObject({});

export const __VAR__ = defineComponent({
  kind: '${kind}',
  id: '__ID__',
  description: 'TODO: one line on what it does',
  schema: __VAR__Schema,
  create() {
    // TODO: return the ${kind} (see the KindOutput interface of @modnas/core), then drop skipCreate in index.test.ts
    throw new Error('__ID__: not written yet');
  },
});
`,
    testImports: '',
    test: `  it.todo('does what a ${kind} must (write its behaviour test here)');`,
    skipCreate: 'create() is not written yet',
    use: `# TODO: where a ${kind} goes in an experiment config
type: __ID__`,
    options: [],
  };
}

export const TEMPLATE_KINDS = ['optim', 'mixed-op', 'primitive', 'backbone', 'estim', 'dataset'] as const;

export function templateOf(kind: string): KindTemplate {
  const t: Record<string, KindTemplate> = { optim, 'mixed-op': mixedOp, primitive, backbone, estim, dataset };
  return t[kind] ?? generic(kind);
}
