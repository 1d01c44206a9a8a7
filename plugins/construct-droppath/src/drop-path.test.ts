import type { Module } from '@modnas/core';
import { EventBus, Slot, Tokens, tf } from '@modnas/core';
import { Conv2d, Identity } from '@modnas/nn';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { dropPathConstructor, dropPathConverter, dropPathTransformer } from './constructors.js';
import { DropPath, DropPathOp, scheduledDropProb } from './drop-path.js';
import { darts } from '../test/darts-net.js';

/** A build context whose run has an event bus (estimators emit 'epoch:begin' on it). */
function withEvents() {
  const ctx = makeBuildContext();
  const events = new EventBus();
  ctx.container.registerInstance(Tokens.EventBus, events);
  return { ctx, events };
}

const dropPaths = (m: Module): DropPath[] => [...m.modules()].map(([, x]) => x).filter((x): x is DropPath => x instanceof DropPath);

describe('DropPath', () => {
  it('zeroes whole examples at the given rate in training, scaling the rest by 1/(1-p); the identity in eval', () => {
    const dp = new DropPath(0.3);
    const x = tf.ones([4000, 2, 2, 1]);
    const y = dp.call(x);
    const rows = tf.tidy(() => Array.from(tf.max(tf.reshape(y, [4000, -1]), 1).dataSync()));
    const dropped = rows.filter((v) => v === 0).length / rows.length;
    // binomial(4000, 0.3): sd 0.0072
    expect(Math.abs(dropped - 0.3)).toBeLessThan(0.03);
    for (const v of rows) if (v !== 0) expect(v).toBeCloseTo(1 / 0.7, 5);
    dp.eval();
    const z = dp.call(x);
    expect(Array.from(z.dataSync()).every((v) => v === 1)).toBe(true);
    tf.dispose([x, y, z]);
  });
});

describe('DropPathConstructor on a DARTS network', () => {
  it('puts a DropPath after the op of every edge but the identities, and raises its probability as epochs begin', async () => {
    const net = darts();
    const slots = Slot.find(net).map(([, s]) => s);
    const ops = slots.filter((s) => !(s.impl instanceof Identity)).length;
    expect(ops).toBeGreaterThan(0);
    expect(ops).toBeLessThan(slots.length);
    const { ctx, events } = withEvents();
    const t = await dropPathConstructor.create(dropPathConstructor.schema.parse({ drop_prob: 0.4 }), ctx, undefined);
    await t.apply(net, ctx);
    expect(slots.filter((s) => s.impl instanceof DropPathOp).length).toBe(ops);
    expect(slots.filter((s) => s.impl instanceof Identity).length).toBe(slots.length - ops);
    expect(dropPaths(net).map((d) => d.dropProb)).toEqual(Array(ops).fill(0));
    // the original's schedule: drop_prob · epoch / epochs before each epoch
    await events.emit('epoch:begin', { estim: 'e', epoch: 3, epochs: 4 });
    expect(dropPaths(net).every((d) => d.dropProb === 0.30000000000000004 || d.dropProb === 0.3)).toBe(true);
    expect(scheduledDropProb(0.4, 3, 4)).toBeCloseTo(0.3, 12);
    // applied again (a second constructor pass), nothing is wrapped twice
    await t.apply(net, ctx);
    expect(dropPaths(net).length).toBe(ops);
    net.dispose();
  });

  it('drops paths at the scheduled rate in training, never in inference', async () => {
    const net = darts();
    const { ctx, events } = withEvents();
    await (await dropPathConstructor.create(dropPathConstructor.schema.parse({ drop_prob: [0, 0.5] }), ctx, undefined)).apply(net, ctx);
    await events.emit('epoch:begin', { estim: 'e', epoch: 1, epochs: 2 });
    const wrapped = Slot.find(net)
      .map(([, s]) => s.impl)
      .filter((m): m is DropPathOp => m instanceof DropPathOp);
    // each edge's op on random inputs (no output row is exactly 0 unless dropped)
    let dropped = 0;
    let total = 0;
    net.train();
    for (const op of wrapped) {
      const conv = op.op as Conv2d;
      const x = tf.randomNormal([200, 4, 4, conv.chnIn ?? 4]);
      const rows = tf.tidy(() => Array.from(tf.max(tf.abs(tf.reshape(op.call(x), [200, -1])), 1).dataSync()));
      dropped += rows.filter((v) => v === 0).length;
      total += rows.length;
      x.dispose();
    }
    // p = 0.5 · 1/2 = 0.25; binomial(total >= 2000): sd <= 0.01
    expect(total).toBeGreaterThanOrEqual(2000);
    expect(Math.abs(dropped / total - 0.25)).toBeLessThan(0.04);
    // inference: the network's output is the one without drop path
    const x = tf.randomNormal([2, 8, 8, 3]);
    net.eval();
    const a = net.call(x);
    for (const d of dropPaths(net)) d.dropProb = 0;
    const b = net.call(x);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    // training: dropped paths change it
    for (const d of dropPaths(net)) d.dropProb = 0.9;
    net.train();
    const c = net.call(x);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(c, b))).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([x, a, b, c]);
    net.dispose();
  });
});

describe('DropPathConverter and DropPathTransformer', () => {
  it('the converter puts a DropPath after the module it is given (not after the identity), scheduled by epochs', async () => {
    const { ctx, events } = withEvents();
    const t = await dropPathConverter.create(dropPathConverter.schema.parse({ drop_prob: 0.2 }), ctx, undefined);
    const conv = new Conv2d(2, 2, { kernelSize: 1 });
    const out = await t.apply(conv, ctx);
    expect(out).toBeInstanceOf(DropPathOp);
    expect((out as DropPathOp).op).toBe(conv);
    const idt = new Identity();
    expect(await t.apply(idt, ctx)).toBe(idt);
    await events.emit('epoch:begin', { estim: 'e', epoch: 1, epochs: 4 });
    expect((out as DropPathOp).drop.dropProb).toBeCloseTo(0.05, 12);
    out.dispose();
  });

  it('the transformer sets the probability of every DropPath in the Slots', async () => {
    const net = darts();
    const ctx = makeBuildContext();
    await (await dropPathConstructor.create(dropPathConstructor.schema.parse({}), ctx, undefined)).apply(net, ctx);
    await (await dropPathTransformer.create(dropPathTransformer.schema.parse({ drop_prob: 0.35 }), ctx, undefined)).apply(net, ctx);
    const probs = dropPaths(net).map((d) => d.dropProb);
    expect(probs.length).toBeGreaterThan(0);
    expect(probs.every((p) => p === 0.35)).toBe(true);
    net.dispose();
  });
});
