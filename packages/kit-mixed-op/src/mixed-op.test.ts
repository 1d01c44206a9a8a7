import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import type { BuildContext, ComponentKind, ComponentSpec, KindInput, KindOutput, SlotSpec } from '@modnas/core';
import { CategoricalMixedOp, MixedOp, TensorMixedOp, buildCandidates, categoricalArchParam, isMixedOp, mixedOpConfigShape, mixedOpRefs, softmaxOf, tensorArchParam } from './mixed-op.js';
import { Module, Sequential, ArchSpace, Rng, silentLogger, tf } from '@modnas/core';
import { z } from 'zod';

/** Multiplies its input by a constant; records the slot it was built for. */
class Scale extends Module {
  constructor(readonly k: number, readonly slot: SlotSpec, private readonly desc?: unknown) {
    super();
    if (desc !== undefined) (this as unknown as { toArchDesc: () => unknown }).toArchDesc = () => this.desc;
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mul(x, this.k);
  }
}

function ctxWith(build: (spec: ComponentSpec | string, input: SlotSpec) => Module): BuildContext & { built: string[] } {
  const built: string[] = [];
  const ctx = {
    container: container.createChildContainer(),
    space: new ArchSpace(),
    rng: new Rng(1),
    logger: silentLogger,
    where: 'construct.0.mixed_op',
    built,
    build: <K extends ComponentKind>(kind: K, spec: ComponentSpec | string, input?: KindInput[K], where?: string): Promise<KindOutput[K]> => {
      built.push(`${kind}:${typeof spec === 'string' ? spec : spec.type}@${where}`);
      return Promise.resolve(build(spec, input as SlotSpec) as KindOutput[K]);
    },
  };
  return ctx;
}

class Sum extends TensorMixedOp {
  forward(x: tf.Tensor): tf.Tensor {
    return this.weightedSum(this.candidates().map((c) => c.call(x)), tf.softmax(this.alpha.variable));
  }
}

class Pick extends CategoricalMixedOp {
  forward(x: tf.Tensor): tf.Tensor {
    return this.candidates()[this.param.index].call(x);
  }
}

describe('mixed-op base', () => {
  it('builds candidates through ctx.build with the slot, names repeats uniquely, keeps specs', async () => {
    const ctx = ctxWith((spec, slot) => new Scale(typeof spec === 'string' ? 2 : Number(spec.k), slot));
    const slot = { chnIn: 3, chnOut: 5, stride: 2 };
    const cands = await buildCandidates(ctx, ['A', { type: 'A', k: 3 }, 'B', 'A'], slot);
    expect(cands.map((c) => c.name)).toEqual(['A', 'A_1', 'B', 'A_2']);
    expect(ctx.built).toEqual(['primitive:A@construct.0.mixed_op.primitives.0', 'primitive:A@construct.0.mixed_op.primitives.1', 'primitive:B@construct.0.mixed_op.primitives.2', 'primitive:A@construct.0.mixed_op.primitives.3']);
    expect((cands[1].module as Scale).k).toBe(3);
    expect((cands[0].module as Scale).slot).toEqual(slot);
    await expect(buildCandidates(ctx, ['A'], undefined)).rejects.toMatchObject({ code: 'MODNAS_E_MIXEDOP_INPUT' });
  });

  it('disposes what it built when a later candidate fails', async () => {
    let n = 0;
    const made: Module[] = [];
    const ctx = ctxWith((_spec, slot) => {
      if (n++ === 1) throw new Error('no such primitive');
      const m = new (class extends Scale {
        constructor() {
          super(1, slot);
          this.addParam('w', tf.ones([2]));
        }
      })();
      made.push(m);
      return m;
    });
    const before = tf.memory().numTensors;
    await expect(buildCandidates(ctx, ['A', 'B'], { chnIn: 1, chnOut: 1, stride: 1 })).rejects.toThrow('no such primitive');
    expect(made).toHaveLength(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(made[0].parameters()).toHaveLength(0);
  });

  it('tensor op: probs = softmax(alpha), desc of argmax (own toArchDesc first), topK, find, brand', async () => {
    const ctx = ctxWith((spec, slot) => new Scale(1, slot, spec === 'B' ? { type: 'B', k: 5 } : undefined));
    const cands = await buildCandidates(ctx, ['A', 'B', { type: 'C', x: 1 }], { chnIn: 1, chnOut: 1, stride: 1 });
    const alpha = tensorArchParam(ctx, 3, { prefix: 't' });
    expect(alpha.name).toBe('t_0');
    const op = new Sum(cands, alpha);
    alpha.assign([0.1, 2, 0.5]);
    expect(op.probs().reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(op.probs()[1]).toBeCloseTo(Math.exp(2) / (Math.exp(0.1) + Math.exp(2) + Math.exp(0.5)), 5);
    expect(op.toArchDesc()).toEqual({ type: 'B', k: 5 });
    alpha.assign([0.1, 0, 0.5]);
    expect(op.toArchDesc()).toEqual({ type: 'C', x: 1 });
    expect(op.topK(2)).toEqual([{ type: 'C', x: 1 }, 'A']);
    expect(op.chosenIndex()).toBe(2);
    expect(isMixedOp(op)).toBe(true);
    expect(isMixedOp(new Sequential())).toBe(false);
    const net = new Sequential([new Sequential([op])]);
    expect(MixedOp.find(net).map(([p, m]) => [p, m === op])).toEqual([['0.0', true]]);
    expect(op.children().map(([n]) => n)).toEqual(['A', 'B', 'C']);
    const y = tf.tidy(() => op.call(tf.ones([1, 2])).dataSync()[0]);
    expect(y).toBeCloseTo(1, 5);
    ctx.space.dispose();
  });

  it('shares a named param, checks shape and kind, and seeds the normal init', async () => {
    const ctx = ctxWith((_s, slot) => new Scale(1, slot));
    const a = tensorArchParam(ctx, 2, { name: 'shared', prefix: 't' });
    expect(tensorArchParam(ctx, 2, { name: 'shared', prefix: 't' })).toBe(a);
    expect(Math.max(...a.toArray().map(Math.abs))).toBeLessThan(1e-2);
    expect(a.toArray().some((v) => v !== 0)).toBe(true);
    const z0 = tensorArchParam(ctx, 2, { prefix: 'alpha', init: 'zeros' });
    expect([z0.name, z0.toArray()]).toEqual(['alpha_0', [0, 0]]);
    const cands = await buildCandidates(ctx, ['A', 'B', 'C'], { chnIn: 1, chnOut: 1, stride: 1 });
    expect(() => new Sum(cands, a)).toThrow(/shape \[2\]/);
    const c = categoricalArchParam(ctx, ['A', 'B', 'C'], { prefix: 'c', initial: 2 });
    expect([c.name, c.value]).toEqual(['c_0', 'C']);
    expect(() => tensorArchParam(ctx, 3, { name: 'c_0', prefix: 't' })).toThrow(/categorical/);
    const pick = new Pick(cands, c);
    expect(pick.probs()).toEqual([0, 0, 1]);
    expect(pick.toArchDesc()).toBe('C');
    const wrong = categoricalArchParam(ctx, ['X', 'Y', 'Z'], { prefix: 'c' });
    expect(() => new Pick(cands, wrong)).toThrow(/choices/);
    ctx.space.dispose();
  });

  it('config shape parses to defaults and refs list the primitives', () => {
    const schema = z.strictObject(mixedOpConfigShape('t'));
    const cfg = schema.parse({});
    expect(cfg).toEqual({ primitives: ['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6'], param: '', prefix: 't' });
    cfg.primitives.push('X');
    expect(schema.parse({}).primitives).toHaveLength(6);
    expect(mixedOpRefs(schema.parse({ primitives: ['NIL', { type: 'MB3E3', k: 1 }] }))).toEqual([
      { kind: 'primitive', spec: 'NIL', path: 'primitives.0' },
      { kind: 'primitive', spec: { type: 'MB3E3', k: 1 }, path: 'primitives.1' },
    ]);
    expect(schema.safeParse({ primitives: [] }).success).toBe(false);
    expect(softmaxOf([1000, 1000])).toEqual([0.5, 0.5]);
  });
});
