// Learning parity with PyTorch on WebGPU: trainer-default's parity harness (the network, weights,
// batches and SGD schedule of bench/reference/parity/make_parity.py, 60 steps) runs in headless
// Chromium on the `webgpu` backend, with these kernels, and must give PyTorch's loss at every step
// and its final weights and batch-norm statistics, as the cpu backend and the native engine do in
// Node. Without a GPU the adapter is SwiftShader: the same WGSL, on the CPU.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, openTestPage, skipReason } from '../test/chromium.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, '..', '..', '..', 'bench', 'reference', 'parity');

interface Api {
  parity(): Promise<{ backend: string; run: { losses: number[] }; failures: string[]; summary: string }>;
}
declare const window: { modnasParity: Api };

describe.skipIf(!hasChromium)(`learning parity with PyTorch on WebGPU in Chromium${skipReason}`, () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ({ browser, page } = await openTestPage(join(here, '..', 'test', 'parity-page.ts'), 'modnasParity', {
      files: { '/parity.json': readFileSync(join(fixture, 'parity.json')), '/parity.bin': readFileSync(join(fixture, 'parity.bin')) },
    }));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("60 SGD-momentum steps on the webgpu backend give PyTorch's losses, weights and BN statistics", async () => {
    const r = await page.evaluate(() => window.modnasParity.parity());
    expect(r.backend).toBe('webgpu');
    expect(r.run.losses).toHaveLength(60);
    console.info(`parity on webgpu: ${r.summary}`);
    expect(r.failures, r.failures.slice(0, 3).join('; ')).toEqual([]);
  }, 300_000);
});
