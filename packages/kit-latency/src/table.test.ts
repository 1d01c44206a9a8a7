import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MixedOp } from '@modnas/kit-mixed-op';
import { afterAll, describe, expect, it } from 'vitest';
import { fakeRuntime, supernet } from './fixtures.js';
import { inferenceGraph } from './runtimes.js';
import { LatencyCache, buildLatencyTable, currentChoice, graphSignature, measureChoice, predictLatency, tableOps } from './table.js';
import { DEFAULT_TIMING, sampleRuns, summarize } from './timing.js';

const INPUT = [8, 8, 3];
const tmp = mkdtempSync(join(tmpdir(), 'modnas-latency-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every architecture of the fixture (3 x 2 x 3 choices). */
function allChoices(sizes: number[]): number[][] {
  return sizes.reduce<number[][]>((acc, n) => acc.flatMap((c) => Array.from({ length: n }, (_, i) => [...c, i])), [[]]);
}

describe('summarize and sampleRuns', () => {
  it('gives the median and the interquartile range', () => {
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ median: 3, iqr: 2, samples: 5 });
    expect(summarize([1, 2, 3, 4])).toMatchObject({ median: 2.5, iqr: 1.5 });
    expect(summarize([]).samples).toBe(0);
  });

  it('repeats a fast run inside each sample until it lasts min_sample_ms, and divides', async () => {
    // a clock of the test's own: each run takes 0.5 ms of it, whatever the machine's load
    let clock = 0;
    let runs = 0;
    const t = { ...DEFAULT_TIMING, warmup: 2, rep: 3, min_sample_ms: 5 };
    const samples = await sampleRuns(
      () => {
        runs++;
        clock += 0.5;
      },
      t,
      () => clock,
    );
    // warm-up 2, calibration 1, then 3 samples of ceil(5 / 0.5) = 10 runs each
    expect(runs).toBe(2 + 1 + 3 * 10);
    expect(samples).toEqual([0.5, 0.5, 0.5]);
    // a run slower than min_sample_ms is sampled once per sample
    runs = 0;
    const slow = await sampleRuns(
      () => {
        runs++;
        clock += 8;
      },
      t,
      () => clock,
    );
    expect(runs).toBe(2 + 1 + 3);
    expect(slow).toEqual([8, 8, 8]);
  });
});

describe('the latency table', () => {
  it('is exact for an additive runtime: fixed + the sum of the blocks is the whole network, for every architecture', async () => {
    const { model, space } = supernet();
    const runtime = fakeRuntime();
    const table = await buildLatencyTable(model, INPUT, runtime, { timing: DEFAULT_TIMING, rounds: 2, warmupMs: 0 });
    const ops = tableOps(model);
    expect(table.ops.map((o) => o.candidates)).toEqual([['c3', 'c5', 'id'], ['c3', 'c5'], ['c3', 'c5', 'id']]);
    expect(table.ops.map((o) => o.keys)).toEqual([['1:0', '1:1', '1:2'], ['2:0', '2:1'], ['3:0', '3:1', '3:2']]);
    // the base candidate alone less the empty network: a 3x3 conv (its ReLU6 fused into it), 0.9 ms;
    // the others in context: a 5x5 conv adds 1.6 ms to the network, the identity saves the 0.9
    expect(table.ops[1].ms[0]).toBeCloseTo(0.9, 9);
    expect(table.ops[1].ms[1]).toBeCloseTo(2.5, 9);
    expect(table.ops[0].ms[2]).toBeCloseTo(0, 9);
    // networks measured in 2 rounds: the base, its 2 + 1 + 2 one-op variants (the identity in the first
    // or the last op gives the same network: measured once), the base candidate alone (the same in every op), the empty network
    expect(runtime.calls).toBe(2 * (1 + 4 + 1 + 1));
    for (const choice of allChoices(ops.map(([, op]) => op.numCandidates))) {
      const whole = await measureChoice(model, INPUT, runtime, DEFAULT_TIMING, ops, choice);
      expect(predictLatency(table, choice), `choice ${choice}`).toBeCloseTo(whole.median, 9);
    }
    // the fixed part holds the run's overhead once and the stem's 3x3 conv (0.9 ms), plus the head
    expect(table.fixed).toBeGreaterThan(0.5 + 0.9);
    expect(table.fixed).toBeLessThan(0.5 + 0.9 + 0.5);
    expect(table.references).toHaveLength(1);
    space.dispose();
  });

  it('predicts the architecture the model runs now', async () => {
    const { model, space } = supernet();
    const table = await buildLatencyTable(model, INPUT, fakeRuntime(), { timing: DEFAULT_TIMING, warmupMs: 0 });
    const ops = tableOps(model).map(([, op]) => op as MixedOp & { alpha: { assign(v: number[]): void } });
    ops[0].alpha.assign([0, 5, 0]);
    ops[1].alpha.assign([5, 0]);
    ops[2].alpha.assign([0, 0, 5]);
    expect(currentChoice(model)).toEqual([1, 0, 2]);
    expect(predictLatency(table, currentChoice(model))).toBeCloseTo(table.fixed + 2.5 + 0.9, 9);
    expect(() => predictLatency(table, [0, 0])).toThrow(/2 choices for 3 mixed ops/);
    space.dispose();
  });

  it('reuses the cache: a second experiment on the same target measures nothing again', async () => {
    const info = { target: 'engine' as const, runtime: 'fake 1.0', machine: 'test' };
    const first = fakeRuntime();
    const a = supernet();
    await buildLatencyTable(a.model, INPUT, first, { timing: DEFAULT_TIMING, warmupMs: 0, cache: new LatencyCache(tmp, info, DEFAULT_TIMING) });
    expect(first.calls).toBeGreaterThan(0);
    expect(readdirSync(tmp)).toHaveLength(1);
    const second = fakeRuntime();
    const b = supernet();
    const t2 = await buildLatencyTable(b.model, INPUT, second, { timing: DEFAULT_TIMING, warmupMs: 0, cache: new LatencyCache(tmp, info, DEFAULT_TIMING) });
    expect(second.calls).toBe(0);
    expect(t2.ops[1].ms[1]).toBeCloseTo(2.5, 9);
    // another runtime version is another file
    const third = fakeRuntime();
    await buildLatencyTable(supernet().model, INPUT, third, { timing: DEFAULT_TIMING, warmupMs: 0, cache: new LatencyCache(tmp, { ...info, runtime: 'fake 2.0' }, DEFAULT_TIMING) });
    expect(third.calls).toBe(first.calls);
    a.space.dispose();
    b.space.dispose();
  });

  it('tells computations apart by shape and attributes, not by weights', () => {
    const { model, space } = supernet();
    const [[, a], [, b]] = tableOps(model);
    const sig = (m: Parameters<typeof inferenceGraph>[0], shape = [8, 8, 8]) => graphSignature(inferenceGraph(m, shape));
    expect(sig(a.candidates()[0])).toBe(sig(b.candidates()[0]));
    expect(sig(a.candidates()[0])).not.toBe(sig(a.candidates()[1]));
    expect(sig(a.candidates()[0])).not.toBe(sig(a.candidates()[0], [16, 16, 8]));
    space.dispose();
  });
});
