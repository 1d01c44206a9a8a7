// The WGSL kernels against tfjs' cpu backend, in headless Chromium on its WebGPU adapter
// (SwiftShader where there is no GPU: the same WGSL a GPU runs, on the CPU). Shapes are drawn at
// random (rows below, at and far above a workgroup's 64 threads, channels from 1 to 96); each
// output's largest error, relative to its largest magnitude, must stay under 1e-4. The page
// (test/page.ts) is bundled with esbuild and served through Playwright's routing (test/chromium.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium as chromium, openTestPage, required, skipReason } from '../test/chromium.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The largest error allowed, relative to the output's largest magnitude. */
const TOL = 1e-4;

interface Api {
  adapter(): Promise<string>;
  bnCase(shape: number[], eps: number, seed: number, xMean: number): Promise<{ forward: number[]; backward: number[] }>;
  relu6GradCase(shape: number[], seed: number): Promise<number[]>;
  addNCase(count: number, shape: number[], seed: number): Promise<{ err: number; leaked: number }>;
}
declare const window: { modnasWebGpu: Api };

/** Shapes drawn from a seeded stream: [n, h, w, c] and 2-D [rows, c]. */
function shapes(count: number, seed: number): number[][] {
  let s = seed;
  const int = (lo: number, hi: number): number => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return lo + (s % (hi - lo + 1));
  };
  const out: number[][] = [
    [1, 1, 1, 5], // one row: variance 0
    [64, 3],
    [2, 7, 9, 96],
  ];
  while (out.length < count) out.push(int(0, 2) === 0 ? [int(1, 300), int(1, 40)] : [int(1, 4), int(1, 12), int(1, 12), int(1, 48)]);
  return out;
}

describe.skipIf(!chromium)(`the WebGPU kernels in Chromium, against the cpu backend${skipReason}`, () => {
  let browser: Browser;
  let page: Page;
  let adapter = '';

  beforeAll(async () => {
    ({ browser, page } = await openTestPage(join(here, '..', 'test', 'page.ts'), 'modnasWebGpu', { alias: { '@modnas/core': join(here, '..', 'test', 'core-shim.ts') } }));
    adapter = await page.evaluate(() => window.modnasWebGpu.adapter());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('the page has a WebGPU adapter (SwiftShader without a GPU)', () => {
    expect(adapter, 'navigator.gpu.requestAdapter() gave none: Chromium needs --enable-unsafe-webgpu and a Vulkan driver (SwiftShader ships with it)').not.toBe('');
  });

  it('BatchNormTrain and BatchNormTrainGrad: y, mean, variance and dx, dscale, doffset match the composition and its gradient (random shapes, eps, a large mean)', async () => {
    for (const [k, shape] of shapes(12, 7).entries()) {
      const eps = [1e-5, 1e-3, 0.1][k % 3];
      const xMean = k % 4 === 3 ? 100 : 0;
      const r = await page.evaluate(([s, e, seed, m]) => window.modnasWebGpu.bnCase(s, e, seed, m), [shape, eps, 100 + k, xMean] as [number[], number, number, number]);
      const what = `shape ${JSON.stringify(shape)}, eps ${eps}, mean ${xMean}`;
      r.forward.forEach((err, i) => expect(err, `${what}: ${['y', 'mean', 'variance'][i]}`).toBeLessThan(TOL));
      r.backward.forEach((err, i) => expect(err, `${what}: ${['dx', 'dscale', 'doffset'][i]}`).toBeLessThan(TOL));
    }
  }, 120_000);

  it('Relu6Grad: dy where 0 < x <= 6, else 0 (the boundaries included)', async () => {
    for (const [k, shape] of shapes(8, 11).entries()) {
      const [err] = await page.evaluate(([s, seed]) => window.modnasWebGpu.relu6GradCase(s, seed), [shape, 200 + k] as [number[], number]);
      expect(err, `shape ${JSON.stringify(shape)}`).toBe(0);
    }
  }, 60_000);

  it('AddN of more tensors than a shader binds (a global gradient norm) sums them in groups, and frees the groups\' sums', async () => {
    for (const [count, shape] of [[9, [3, 5]], [40, [17]], [68, [2, 3, 4]]] as Array<[number, number[]]>) {
      const r = await page.evaluate(([c, s, seed]) => window.modnasWebGpu.addNCase(c, s, seed), [count, shape, 300 + count] as [number, number[], number]);
      expect(r.err, `${count} x ${JSON.stringify(shape)}`).toBeLessThan(TOL);
      expect(r.leaked, `${count} x ${JSON.stringify(shape)}: buffers left`).toBe(0);
    }
  }, 60_000);
});

it.runIf(!chromium && required)('Chromium is there (MODNAS_REQUIRE_SERVICES=1)', () => {
  expect(chromium, `no Chromium at MODNAS_TEST_CHROMIUM="${process.env.MODNAS_TEST_CHROMIUM ?? ''}": apt-get install chromium`).toBe(true);
});
