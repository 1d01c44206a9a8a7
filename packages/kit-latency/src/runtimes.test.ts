// Real measurements: the engine and onnxruntime-node in this process, and the three browser
// targets in one headless Chromium (Debian's, MODNAS_TEST_CHROMIUM or /usr/bin/chromium; skipped
// with the reason where there is none, and failing then under MODNAS_REQUIRE_SERVICES=1, as CI sets).
import { ModnasError, Sequential } from '@modnas/core';
import { Conv2d, GlobalAvgPool, Linear, ReLU6 } from '@modnas/nn';
import { afterAll, describe, expect, it } from 'vitest';
import type { LatencyTarget } from './runtimes.js';
import { BROWSER_TARGETS, closeRuntimes, importFor, inferenceGraph, openRuntime } from './runtimes.js';
import { DEFAULT_TIMING } from './timing.js';
import { chromium, chromiumPath, required, skipReason } from '../../../test/chromium.js';

const T = { ...DEFAULT_TIMING, warmup: 3, rep: 5, min_sample_ms: 1 };
const INPUT = [16, 16, 3];
const net = () => new Sequential([new Conv2d(3, 16, { kernelSize: 3, padding: 1 }), new ReLU6(), new Conv2d(16, 16, { kernelSize: 3, padding: 1, groups: 16 }), new GlobalAvgPool(), new Linear(16, 10)]);

afterAll(() => closeRuntimes());

describe('latency targets in Node', () => {
  for (const target of ['engine', 'onnxruntime-node'] as const) {
    it(`${target}: measures a network, names its runtime and machine`, async () => {
      const r = await openRuntime(target, { threads: 1 });
      const m = net();
      const samples = await r.measure({ module: m, inputShape: INPUT, graph: inferenceGraph(m, INPUT) }, T);
      expect(samples).toHaveLength(T.rep);
      for (const s of samples) expect(s).toBeGreaterThan(0);
      const info = await r.info();
      expect(info.runtime).toMatch(target === 'engine' ? /@modnas engine on tfjs backend \w+/ : /^onnxruntime-node 1\.\d+\.\d+ \(cpu, 1 thread\)$/);
      expect(info.machine).toMatch(/x\d+, linux-/);
    });
  }
});

describe('latency errors', () => {
  it('an unknown target names the ones there are', () => {
    expect(() => openRuntime('tpu' as LatencyTarget, { threads: 1 })).toThrow(expect.objectContaining({ code: 'MODNAS_E_LATENCY_TARGET', fix: expect.stringContaining('tfjs-wasm') }));
  });

  it('a target whose package is missing names the package to install', async () => {
    const e = await importFor('@modnas/no-such-runtime', 'onnxruntime-node').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModnasError);
    expect(e).toMatchObject({ code: 'MODNAS_E_LATENCY_RUNTIME', fix: 'npm i @modnas/no-such-runtime' });
  });

  it('a browser that does not start is a coded error that says how to get one', async () => {
    const e = await openRuntime('tfjs-wasm', { threads: 1, browser: '/nonexistent/chromium' }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'MODNAS_E_LATENCY_BROWSER', fix: expect.stringContaining('apt-get install chromium') });
  });
});

describe.skipIf(!chromium)(`latency targets in Chromium${skipReason}`, () => {
  it.each([...BROWSER_TARGETS])('%s: measures a network in the page', async (target) => {
    const r = await openRuntime(target, { threads: 1, browser: chromiumPath });
    const m = net();
    const samples = await r.measure({ module: m, inputShape: INPUT, graph: inferenceGraph(m, INPUT) }, T);
    expect(samples).toHaveLength(T.rep);
    for (const s of samples) expect(s).toBeGreaterThan(0);
    const info = await r.info();
    expect(info.runtime).toMatch(target === 'onnxruntime-web' ? /^onnxruntime-web 1\.\d+\.\d+ \(wasm, 1 thread\) in Chromium \d+/ : new RegExp(`^TensorFlow.js 4\\.\\d+\\.\\d+ ${target.slice(5)} in Chromium \\d+`));
    if (target === 'tfjs-webgl') expect(info.runtime).toMatch(/ on .+/);
  }, 120_000);
});

it.runIf(!chromium && required)('Chromium is there (MODNAS_REQUIRE_SERVICES=1)', () => {
  expect(chromium, `no Chromium at MODNAS_TEST_CHROMIUM="${process.env.MODNAS_TEST_CHROMIUM ?? ''}": apt-get install chromium, or point MODNAS_TEST_CHROMIUM at it`).toBe(true);
});
