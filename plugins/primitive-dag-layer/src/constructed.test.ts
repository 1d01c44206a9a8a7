import type { Module, StateTransformer } from '@modnas/core';
import { Slot, defineComponent, definePlugin, getRegistry, tf, z } from '@modnas/core';
import { buildMixedOp, isMixedOp } from '@modnas/kit-mixed-op';
import weightedSum from '@modnas/mixed-op-weighted-sum';
import basic from '@modnas/primitive-basic';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import { constructed, constructSpecs } from './constructed.js';
import { DAGLayer } from './dag-layer.js';
import plugin from './index.js';

/** A stand-in for DefaultMixedOpConstructor (another package): every empty Slot, nested ones too, gets a mixed op. */
const fillAll = defineComponent({
  kind: 'construct',
  id: 'TestFillSlots',
  description: 'test stand-in',
  schema: z.strictObject({ primitives: z.array(z.string()).default(['IDT', 'NIL']) }),
  create: (c): StateTransformer => ({
    async apply(model: Module, ctx) {
      for (const [, s] of Slot.find(model, { nested: true }).filter(([, s]) => !s.filled)) s.fill(await buildMixedOp(s, 'WeightedSum', c.primitives, ctx));
      return model;
    },
  }),
});

beforeAll(() => {
  for (const p of [basic, weightedSum, plugin, definePlugin({ meta: { name: 'constructed-test', version: '0.0.0' }, components: [fillAll] })]) getRegistry().register(p);
});

describe('Constructed', () => {
  it('builds the module for the Slot, then applies the constructors to it: a DAGLayer whose edges become mixed ops', async () => {
    const ctx = makeBuildContext();
    const config = constructed.schema.parse({ module: { type: 'DAGLayer', n_nodes: 2 }, construct: [{ type: 'TestFillSlots', primitives: ['SC3', 'IDT'] }] });
    const m = await constructed.create(config, ctx, { chnIn: 3, chnOut: 4, stride: 2 });
    expect(m).toBeInstanceOf(DAGLayer);
    expect((m as DAGLayer).edges().every((s) => isMixedOp(s.impl))).toBe(true);
    expect(ctx.space.tensors()).toHaveLength(3);
    const y = m.call(tf.randomNormal([2, 8, 8, 3]));
    expect(y.shape).toEqual([2, 4, 4, 4]);
    tf.dispose(y);
    m.dispose();
    ctx.space.dispose();
  });

  it('without a module: an empty Slot of the same spec that the constructors fill; without constructors: the module as built', async () => {
    const ctx = makeBuildContext();
    const m = await constructed.create(constructed.schema.parse({ construct: { fill: 'TestFillSlots' } }), ctx, { chnIn: 2, chnOut: 2, stride: 1 });
    expect(m).toBeInstanceOf(Slot);
    expect(isMixedOp((m as Slot).impl)).toBe(true);
    const plain = await constructed.create(constructed.schema.parse({ module: 'NC3' }), ctx, { chnIn: 2, chnOut: 3, stride: 1 });
    // NC3 2->3: BN(2) affine 4 + 3x3 conv 54
    expect(plain.numParams()).toBe(58);
    m.dispose();
    plain.dispose();
    ctx.space.dispose();
  });

  it("reads construct as the original's streamline_spec does, and lists its refs for up-front validation", () => {
    expect(constructSpecs('A')).toEqual(['A']);
    expect(constructSpecs({ type: 'A', x: 1 })).toEqual([{ type: 'A', x: 1 }]);
    expect(constructSpecs({ first: 'A', second: { type: 'B' } })).toEqual(['A', { type: 'B' }]);
    const c = constructed.schema.parse({ module: 'DAGLayer', construct: { first: 'A', second: 'B' } });
    expect(constructed.refs!(c)).toEqual([
      { kind: 'primitive', spec: 'DAGLayer', path: 'module' },
      { kind: 'construct', spec: 'A', path: 'construct.first' },
      { kind: 'construct', spec: 'B', path: 'construct.second' },
    ]);
  });
});
