// The page in headless Chromium, as a user opens it: built with build.mjs, served from dist/ (through
// Playwright's routing, from an https origin: WebGPU needs a secure context), a short search on
// WebGPU (SwiftShader without a GPU), the found architecture shown, and the ONNX download run in
// onnxruntime-node on the page's probe images: it gives the logits the page's network gave them.
// Then a browser without WebGPU: the page falls back to webgl and searches there.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium as pw } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, chromiumPath, required, skipReason } from '../../test/chromium.js';
import { ORIGIN, WEBGPU_ARGS, buildPage, routeDist } from './build.mjs';
/** The quickstart's first block is fixed (MB3E1, expansion 1); the six after it choose among these. */
const PRIMITIVES = ['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'NIL'];

interface PageState {
  status: string;
  backend?: string;
  adapter?: string;
  lines: string[];
  error?: { code?: string; message: string };
  result?: { arch: unknown; accuracy: number; onnxBytes: number; meta: { format: string; classes: string[]; input: { shape: number[]; layout: string; name: string }; output: { name: string } }; probe: { images: number[]; shape: number[]; logits: number[]; cpuLogits: number[] } };
}
declare const window: { modnasSearch?: PageState };

/** Largest |a - b| over the largest |b| (at least 1). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 1;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return a.length === b.length ? d / m : Infinity;
}

/** The page's short search (?budget=test) in a browser launched with `args`, run to its end. */
async function searchIn(args: string[]): Promise<{ browser: Browser; page: Page; state: PageState }> {
  const browser = await pw.launch({ executablePath: chromiumPath, headless: true, args });
  const page = await browser.newPage({ acceptDownloads: true });
  await routeDist(page);
  await page.goto(`${ORIGIN}/?budget=test&autostart=1`);
  await page.waitForFunction(() => ['done', 'error'].includes(window.modnasSearch?.status ?? ''), null, { timeout: 540_000, polling: 500 });
  return { browser, page, state: (await page.evaluate(() => window.modnasSearch))! };
}

describe.skipIf(!chromium)(`examples/browser-search in Chromium${skipReason}`, () => {
  let browser: Browser;
  let page: Page;
  let state: PageState;
  const downloads = mkdtempSync(join(tmpdir(), 'modnas-browser-search-'));

  beforeAll(async () => {
    await buildPage();
    ({ browser, page, state } = await searchIn(WEBGPU_ARGS));
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(downloads, { recursive: true, force: true });
  });

  it('searches on WebGPU and shows the found architecture', async () => {
    expect(state.error, state.lines.join('\n')).toBeUndefined();
    expect(state.status).toBe('done');
    expect(state.backend).toBe('webgpu');
    expect(state.lines).toContain('estim search (SuperNetEstimator): begin');
    expect(state.lines.some((l) => /^search epoch 1\/1: train_loss=/.test(l)), state.lines.join('\n')).toBe(true);
    const arch = state.result!.arch as string[];
    expect(arch).toHaveLength(7);
    expect(arch[0]).toBe('MB3E1');
    for (const p of arch.slice(1)) expect(PRIMITIVES).toContain(p);
    const shown = await page.locator('#arch li').allTextContents();
    expect(shown).toEqual(arch.map((p, i) => `block ${i}${p}`));
    expect(state.result!.accuracy).toBeGreaterThanOrEqual(0);
    expect(await page.locator('#backend').textContent()).toMatch(/^webgpu \(.+\)/);
  });

  it('the network moved to the cpu for the export computes what it computed on WebGPU', () => {
    const { logits, cpuLogits } = state.result!.probe;
    expect(logits.length).toBe(80);
    expect(logits.every(Number.isFinite)).toBe(true);
    expect(relDiff(cpuLogits, logits)).toBeLessThan(1e-3);
  });

  it('offers the network as ONNX with its modnas.json, and the download gives the page\'s logits in onnxruntime', async () => {
    const save = async (id: string): Promise<string> => {
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}`)]);
      const file = join(downloads, dl.suggestedFilename());
      await dl.saveAs(file);
      return file;
    };
    const onnxFile = await save('download-model-onnx');
    expect(onnxFile.endsWith('model.onnx')).toBe(true);
    const meta = JSON.parse(readFileSync(await save('download-modnas-json'), 'utf8')) as PageState['result'] extends infer R ? (R extends { meta: infer M } ? M : never) : never;
    expect(meta.format).toBe('onnx');
    expect(meta.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(meta.input.layout).toBe('NCHW');

    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(readFileSync(onnxFile));
    const { images, shape, cpuLogits } = state.result!.probe;
    const [n, h, w, c] = shape;
    const nchw = new Float32Array(images.length);
    for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) nchw[((b * c + k) * h + y) * w + x] = images[((b * h + y) * w + x) * c + k];
    const outs = await session.run({ [meta.input.name]: new ort.Tensor('float32', nchw, [n, c, h, w]) });
    const got = outs[meta.output.name].data as Float32Array;
    expect(relDiff(got, cpuLogits)).toBeLessThan(1e-4);
    await session.release();
  });
});

describe.skipIf(!chromium)(`examples/browser-search in Chromium without WebGPU${skipReason}`, () => {
  let browser: Browser;
  let page: Page;
  let state: PageState;

  beforeAll(async () => {
    await buildPage();
    ({ browser, page, state } = await searchIn(['--no-sandbox']));
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('falls back to webgl, says why, and searches there', async () => {
    expect(state.error, state.lines.join('\n')).toBeUndefined();
    expect(state.status).toBe('done');
    expect(state.backend).toBe('webgl');
    expect(await page.locator('#backend').textContent()).toMatch(/^webgl; not: webgpu: /);
    expect(state.lines).toContain('estim search (SuperNetEstimator): begin');
    const { logits, cpuLogits } = state.result!.probe;
    expect(logits.every(Number.isFinite)).toBe(true);
    expect(relDiff(cpuLogits, logits)).toBeLessThan(1e-3);
    expect(await page.locator('#arch li').count()).toBe(7);
  });
});

it.runIf(!chromium && required)('Chromium is there (MODNAS_REQUIRE_SERVICES=1)', () => {
  expect(chromium, `no Chromium at MODNAS_TEST_CHROMIUM="${process.env.MODNAS_TEST_CHROMIUM ?? ''}": apt-get install chromium`).toBe(true);
});
