import type { MetricsFn , tf } from '@modnas/core';
import { Module, Sequential, getRegistry } from '@modnas/core';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, ReLU } from '@modnas/nn';
import { makeBuildContext } from '@modnas/testkit';
import { beforeAll, describe, expect, it } from 'vitest';
import plugin from './index.js';
import { inputShapes } from './traversal-metrics.js';

beforeAll(() => getRegistry().register(plugin));

/**
 * A mixed op by @modnas/kit-mixed-op's global brand (the contract the traversal reads): fixed
 * probabilities, and in eval mode runs its most probable candidate, as a sampling op would.
 */
const BRAND: unique symbol = Symbol.for('@modnas/core:MixedOp') as never;
class StandInMixedOp extends Module {
  readonly [BRAND] = true;
  constructor(private readonly cands: Module[], private readonly p: number[]) {
    super();
    cands.forEach((c, i) => this.addModule(String(i), c));
  }
  probs(): number[] {
    return this.p;
  }
  candidates(): Module[] {
    return this.cands;
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.cands[this.p.indexOf(Math.max(...this.p))].call(x);
  }
}

// stem conv 3->4 (stride 2: 16x16 -> 8x8), BN, ReLU, a mixed op of a 3x3 and a 5x5 conv 4->4 with
// probabilities 0.75 / 0.25, pool, linear 4->2 (convs without bias)
const net = () =>
  new Sequential([
    new Conv2d(3, 4, { kernelSize: 3, stride: 2, bias: false }),
    new BatchNorm2d(4),
    new ReLU(),
    new StandInMixedOp([new Conv2d(4, 4, { kernelSize: 3, bias: false }), new Conv2d(4, 4, { kernelSize: 5, bias: false })], [0.75, 0.25]),
    new GlobalAvgPool(),
    new Linear(4, 2),
  ]);

async function run(type: string, inner: Record<string, unknown>, model: Module = net()): Promise<number> {
  const fn: MetricsFn = await makeBuildContext().build('metrics', { type, metrics: inner });
  const r = await fn(model, { inputShape: [16, 16, 3] });
  model.dispose();
  return Object.values(r)[0];
}

// Multiply-accumulates by hand: stem 8*8*(3*3*3)*4 = 6912; 3x3 4->4 on 8x8: 8*8*9*4*4 = 9216;
// 5x5: 8*8*25*4*4 = 25600; linear 4*2 = 8 (bias adds are not MACs). Weights: stem 108, BN 8
// (gamma, beta), 3x3 144, 5x5 400, linear 10.
describe('ModuleTraversalMetrics and MixedOpTraversalMetrics', () => {
  it("records each module's own input shape from one forward, and leaves the modules as they were", () => {
    const m = net();
    const shapes = inputShapes(m, [16, 16, 3]);
    const [stem, , , mixed, , head] = m.children().map(([, c]) => c);
    expect(shapes.get(stem)).toEqual([16, 16, 3]);
    expect(shapes.get(mixed)).toEqual([8, 8, 4]);
    expect(shapes.get(head)).toEqual([4]);
    expect(shapes.has((mixed as StandInMixedOp).candidates()[1])).toBe(false); // not run in eval
    expect(Object.prototype.hasOwnProperty.call(stem, 'call')).toBe(false);
    expect(m.training).toBe(true);
    m.dispose();
  });

  it('FLOPs: the leaves summed, the mixed op as the expectation over its candidates at its input shape', async () => {
    expect(await run('ModuleTraversalMetrics', { type: 'FLOPsMetrics' })).toBeCloseTo(6912 + 0.75 * 9216 + 0.25 * 25600 + 8, 9);
    expect(await run('MixedOpTraversalMetrics', { type: 'FLOPsMetrics' })).toBeCloseTo(0.75 * 9216 + 0.25 * 25600, 9);
  });

  it('without mixed ops, the sum over the leaves is the whole network\'s FLOPs', async () => {
    const plain = new Sequential([new Conv2d(3, 4, { kernelSize: 3, bias: false }), new BatchNorm2d(4), new ReLU(), new GlobalAvgPool(), new Linear(4, 2)]);
    const whole = await (await makeBuildContext().build('metrics', 'FLOPsMetrics'))(plain, { inputShape: [16, 16, 3] });
    expect(await run('ModuleTraversalMetrics', { type: 'FLOPsMetrics' }, plain)).toBe(whole.flops);
    expect(whole.flops).toBe(16 * 16 * 27 * 4 + 8);
  });

  it('weights: each leaf counted once, candidates by probability', async () => {
    expect(await run('ModuleTraversalMetrics', { type: 'ParamsMetrics', mode: 'total' })).toBeCloseTo(108 + 8 + 0.75 * 144 + 0.25 * 400 + 10, 9);
  });
});
