// Test fixtures: a small supernet of three mixed ops (argmax α, as binary gates run in eval mode) between a stem and a head, and a
// runtime whose "latency" is computed from the graph (so the table's arithmetic can be checked exactly).
import type { Module as ModuleT, TensorParam } from '@modnas/core';
import { ArchSpace, Sequential } from '@modnas/core';
import type { MixedOpCandidate } from '@modnas/kit-mixed-op';
import { TensorMixedOp } from '@modnas/kit-mixed-op';
import { Conv2d, GlobalAvgPool, Identity, Linear, ReLU6 } from '@modnas/nn';
import type { LatencyRuntime, Net } from './runtimes.js';

/** A mixed op that runs its argmax-α candidate (as a binary-gate op does in eval mode). */
class ArgmaxOp extends TensorMixedOp {
  constructor(candidates: readonly MixedOpCandidate[], alpha: TensorParam) {
    super(candidates, alpha);
  }

  override forward(x: Parameters<ModuleT['call']>[0]): ReturnType<ModuleT['call']> {
    return this.candidates()[this.chosenIndex()].call(x);
  }
}

export function supernet(space = new ArchSpace()): { model: ModuleT; space: ArchSpace } {
  const op = (name: string, withIdentity: boolean) => {
    const cands = [
      { name: 'c3', spec: 'c3', module: new Sequential([new Conv2d(8, 8, { kernelSize: 3, padding: 1 }), new ReLU6()]) },
      { name: 'c5', spec: 'c5', module: new Sequential([new Conv2d(8, 8, { kernelSize: 5, padding: 2 }), new ReLU6()]) },
    ];
    if (withIdentity) cands.push({ name: 'id', spec: 'NIL', module: new Identity() as unknown as Sequential });
    return new ArgmaxOp(cands, space.tensor({ name, shape: [cands.length] }));
  };
  const model = new Sequential([new Conv2d(3, 8, { kernelSize: 3, padding: 1 }), op('a', true), op('b', false), op('c', true), new GlobalAvgPool(), new Linear(8, 4)]);
  return { model, space };
}

/** A run costs OVERHEAD plus 0.1 ms per filter tap of each convolution and 0.05 ms per other op; Relu (the empty network's op) is free. */
export const OVERHEAD = 0.5;

export function fakeMs(net: Net): number {
  let ms = OVERHEAD;
  for (const n of net.graph.nodes) {
    const filter = net.graph.in(n, 'filter');
    if (filter) {
      const [kh, kw] = net.graph.value(filter).shape;
      ms += 0.1 * kh * kw;
    } else if (n.op !== 'Relu') ms += 0.05;
  }
  return ms;
}

export function fakeRuntime(): LatencyRuntime & { calls: number } {
  const r = {
    target: 'engine' as const,
    calls: 0,
    async info() {
      return { target: 'engine' as const, runtime: 'fake 1.0', machine: 'test' };
    },
    async measure(net: Net) {
      r.calls++;
      const ms = fakeMs(net);
      return [ms, ms, ms];
    },
  };
  return r;
}
