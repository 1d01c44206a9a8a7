import { defineComponent, definePlugin, getRegistry, tf, z } from '@modnas/core';
import { CategoricalMixedOp } from '@modnas/kit-mixed-op';
import { TestLinOp, describeConformance, makeBuildContext, registerTestPrimitives } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { IndexOp } from './index-mixed-op.js';
import plugin from './index.js';

// Stand-in candidates until the real primitives are installed: TestLin = tanh(conv1x1(x)), seeded,
// and TestDesc, one that describes itself (as a configurable primitive would).
registerTestPrimitives();
class Described extends TestLinOp {
  toArchDesc(): unknown {
    return ['TestDesc', { k: 7 }];
  }
}
const testDesc = defineComponent({
  kind: 'primitive',
  id: 'TestDesc',
  description: 'test stand-in',
  schema: z.strictObject({ seed: z.number().int().default(0).describe('weight seed') }),
  create: (c, _ctx, slot) => new Described(slot, c.seed),
});
getRegistry().register(definePlugin({ meta: { name: '@modnas-test/described-primitive', version: '0.0.0' }, components: [testDesc] }));

const SLOT = { chnIn: 2, chnOut: 3, stride: 2 };

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url), configs: { Index: { primitives: ['TestLin', { type: 'TestLin', seed: 4 }] } } });

const input = (): tf.Tensor4D => tf.tensor4d(Array.from({ length: 2 * 4 * 4 * 2 }, (_, i) => Math.sin(0.7 * i)), [2, 4, 4, 2]);

describe('Index', () => {
  it('makes a categorical param over the candidate names (seeded random start, or first) and exports its value', async () => {
    const starts = new Set<number>();
    for (let seed = 0; seed < 12; seed++) {
      const ctx = makeBuildContext({ seed });
      const op = (await ctx.build('mixed-op', { type: 'IndexMixedOp', primitives: ['TestLin', 'TestDesc', { type: 'TestLin', seed: 9 }] }, SLOT)) as IndexOp;
      expect(op).toBeInstanceOf(CategoricalMixedOp);
      expect(op.param.name).toBe('c_0');
      expect(op.param.choices).toEqual(['TestLin', 'TestDesc', 'TestLin_1']);
      starts.add(op.param.index);
      op.param.value = 'TestLin';
      expect(op.toArchDesc()).toBe('TestLin');
      op.param.value = 'TestDesc';
      expect(op.toArchDesc()).toEqual(['TestDesc', { k: 7 }]);
      op.param.value = 'TestLin_1';
      expect(op.toArchDesc()).toEqual({ type: 'TestLin', seed: 9 });
      expect(op.probs()).toEqual([0, 0, 1]);
      op.dispose();
      ctx.space.dispose();
    }
    expect(starts.size).toBeGreaterThan(1);
    const ctx = makeBuildContext({ seed: 5 });
    const first = (await ctx.build('mixed-op', { type: 'Index', primitives: ['TestDesc', 'TestLin'], init: 'first' }, SLOT)) as IndexOp;
    expect(first.param.index).toBe(0);
    first.dispose();
    ctx.space.dispose();
  });

  it('equals the selected candidate in training and evaluation, and follows the param when it changes', async () => {
    const ctx = makeBuildContext();
    const op = (await ctx.build('mixed-op', { type: 'Index', primitives: [{ type: 'TestLin', seed: 1 }, { type: 'TestLin', seed: 2 }, { type: 'TestLin', seed: 3 }] }, SLOT)) as IndexOp;
    const x = input();
    const outs = op.candidates().map((c) => Array.from(tf.tidy(() => c.call(x)).dataSync()));
    expect(outs[0]).not.toEqual(outs[1]);
    for (const i of [2, 0, 1]) {
      op.param.index = i;
      for (const training of [true, false]) {
        op.train(training);
        const y = tf.tidy(() => op.call(x));
        expect(y.shape).toEqual([2, 2, 2, 3]);
        expect(Array.from(y.dataSync())).toEqual(outs[i]);
        expect(op.sampledIndex).toBe(i);
        y.dispose();
      }
    }
    x.dispose();
    op.dispose();
    ctx.space.dispose();
  });

  it('gives gradients only to the selected candidate, without leaks', async () => {
    const ctx = makeBuildContext();
    const op = (await ctx.build('mixed-op', { type: 'Index', primitives: [{ type: 'TestLin', seed: 1 }, { type: 'TestLin', seed: 2 }] }, SLOT)) as IndexOp;
    op.param.index = 1;
    const x = input();
    const before = tf.memory().numTensors;
    const names = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean(tf.square(op.call(x))), op.parameters());
      return Object.keys(grads);
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(names).toEqual([op.candidates()[1].parameters()[0].name]);
    x.dispose();
    op.dispose();
    ctx.space.dispose();
  });

  it('shares one param between ops named alike, and rejects sharing across different primitives', async () => {
    const ctx = makeBuildContext();
    const a = (await ctx.build('mixed-op', { type: 'Index', primitives: ['TestLin', 'TestDesc'], param: 'cell' }, SLOT)) as IndexOp;
    const b = (await ctx.build('mixed-op', { type: 'Index', primitives: ['TestLin', 'TestDesc'], param: 'cell' }, SLOT)) as IndexOp;
    expect(a.param).toBe(b.param);
    expect(ctx.space.names()).toEqual(['cell']);
    a.param.index = 1;
    expect(b.toArchDesc()).toEqual(['TestDesc', { k: 7 }]);
    await expect(ctx.build('mixed-op', { type: 'Index', primitives: ['TestDesc', 'TestLin'], param: 'cell' }, SLOT)).rejects.toMatchObject({ code: 'MODNAS_E_MIXEDOP_PARAM' });
    a.dispose();
    b.dispose();
    ctx.space.dispose();
  });
});
