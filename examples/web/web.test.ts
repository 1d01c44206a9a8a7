// The web example end to end, and the acceptance of model export (issue 21): a quickstart search,
// `modnas train` and `modnas export --format both`, run through the CLI binary in quick mode, then
// the exported models evaluated on the whole MNIST test split (10,000 images) in four runtimes
// that know nothing of @modnas: (a) onnxruntime-node, (b) stock @tensorflow/tfjs in a Node child
// process, (c) TensorFlow.js and (d) onnxruntime-web in headless Chromium, through the example's
// page. Each must give @modnas's own logits within 1e-4, the same prediction on every image and so
// the test accuracy @modnas reported. Then the page is driven as a user would (PNG files through its
// file input, a digit drawn on its canvas), and the server's roots are checked for `..` escapes.
// Chromium is Debian's (MODNAS_TEST_CHROMIUM or /usr/bin/chromium); the browser tests skip with
// their reason when it is missing, and fail then under MODNAS_REQUIRE_SERVICES=1 (CI).
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import { tf } from '@modnas/core';
import { normalizePixels, readImagePixels } from '@modnas/kit-image';
import { loadTrainedNetwork } from '@modnas/runtime';
import * as ort from 'onnxruntime-node';
import type { Browser, Page } from 'playwright-core';
import { chromium as pw } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
const chromiumPath = process.env.MODNAS_TEST_CHROMIUM || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : '');
const chromium = chromiumPath !== '' && existsSync(chromiumPath);
const required = process.env.MODNAS_REQUIRE_SERVICES === '1';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
/** The acceptance bound on |logit difference| against @modnas's forward pass. */
const TOL = 1e-4;
/**
 * quick=true caps training at 512 images and one epoch; quickstart's SGD with 50 warm-up steps
 * learns nothing in 64 steps (every image a "1"), which would make "same prediction on every image"
 * trivial. Adam without warm-up reaches about 40% in the same 64 steps: ten classes predicted.
 */
const TRAIN_OPTS = ['trainer.optimizer=adam', 'trainer.lr=0.002', 'trainer.warmup_steps=0', 'trainer.lr_scheduler=none', 'trainer.batch_size=8'];

interface Meta {
  input: { name: string; shape: number[]; layout: 'NHWC' | 'NCHW' };
  output: { name: string; shape: number[] };
  classes: string[];
  preprocess: { height: number; width: number; channels: 1 | 3; resize: 'fill' | 'pad'; inner?: [number, number]; mean: number[]; std: number[] };
  metrics: { test_accuracy: number; test_size: number; split: string };
}

interface Reference {
  /** The test split as @modnas feeds it (NHWC, normalised). */
  x: Float32Array;
  labels: Int32Array;
  /** @modnas's own logits (eval mode), n x k. */
  logits: Float32Array;
  n: number;
  k: number;
  /** Values per image. */
  per: number;
}

interface Agreement {
  maxDiff: number;
  /** Images whose predicted class differs from @modnas's. */
  argmaxDiffers: number;
  accuracy: number;
  classesPredicted: number;
}

function argmax(a: ArrayLike<number>, from: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (a[from + j] > a[from + best]) best = j;
  return best;
}

/** How a runtime's logits agree with @modnas's on the first n images. */
function agreement(got: ArrayLike<number>, ref: Reference, n = ref.n): Agreement {
  expect(got.length).toBe(n * ref.k);
  let maxDiff = 0;
  let argmaxDiffers = 0;
  let correct = 0;
  const predicted = new Set<number>();
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < ref.k; j++) {
      const d = Math.abs(got[i * ref.k + j] - ref.logits[i * ref.k + j]);
      // NaN must fail too
      maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
    }
    const a = argmax(got, i * ref.k, ref.k);
    if (a !== argmax(ref.logits, i * ref.k, ref.k)) argmaxDiffers++;
    if (a === ref.labels[i]) correct++;
    predicted.add(a);
  }
  return { maxDiff, argmaxDiffers, accuracy: correct / n, classesPredicted: predicted.size };
}

function readFloats(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

async function cli(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`modnas ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

/** Start `node serve.mjs <folder> --port 0` and read the URL it prints. */
async function startServe(folder: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(here, 'serve.mjs'), folder, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`serve.mjs printed no URL in 20 s: ${out}`)), 20_000);
    const on = (d: Buffer): void => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(t);
        ok(m[1]);
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => fail(new Error(`serve.mjs exited with ${code}: ${out}`)));
  });
  return { url, child };
}

/** A GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(url: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const req = request({ host: u.hostname, port: u.port, path, method }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('latin1')));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

// ---------------------------------------------------------------- PNG files without a library

const CRC = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const v of b) c = CRC[(c ^ v) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
/** An 8-bit grey (channels 1) or RGB (channels 3) PNG, no colour profile (so sRGB). */
function encodePng(px: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  const rows = Buffer.alloc(height * (1 + width * channels));
  for (let y = 0; y < height; y++) rows.set(px.subarray(y * width * channels, (y + 1) * width * channels), y * (1 + width * channels) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', new Uint8Array(0))]);
}

// ---------------------------------------------------------------- the run all tests share

const tmp = mkdtempSync(join(tmpdir(), 'modnas-web-'));
const exportDir = join(tmp, 'export');
let ref: Reference;
let meta: Meta;
let onnxMeta: Meta;
let reportedAccuracy: number;
let serve: { url: string; child: ChildProcess };
const timings: Record<string, string> = {};
const fileStart = Date.now();
const secs = (t0: number): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

beforeAll(async () => {
  let t0 = Date.now();
  await cli(['run', 'examples/quickstart/search.yaml', '-o', 'quick=true', '-o', `output_dir=${tmp}`, '-q']);
  timings['search (quick)'] = secs(t0);
  t0 = Date.now();
  const arch = join(tmp, 'quickstart', 'outputs', 'arch_search_best.yaml');
  await cli(['train', 'examples/quickstart/train.yaml', '--arch', arch, '-o', 'quick=true', '-o', `output_dir=${tmp}`, ...TRAIN_OPTS.flatMap((o) => ['-o', o]), '-q']);
  timings['train (quick)'] = secs(t0);
  t0 = Date.now();
  const out = await cli(['export', join(tmp, 'quickstart-train'), '--format', 'both', '--out', exportDir]);
  timings.export = secs(t0);
  const m = /test accuracy ([\d.]+)%/.exec(out);
  if (!m) throw new Error(`modnas export printed no test accuracy:\n${out}`);
  reportedAccuracy = Number(m[1]) / 100;
  meta = JSON.parse(readFileSync(join(exportDir, 'tfjs', 'modnas.json'), 'utf8')) as Meta;
  onnxMeta = JSON.parse(readFileSync(join(exportDir, 'onnx', 'modnas.json'), 'utf8')) as Meta;

  // @modnas's own forward pass over the whole test split, once
  t0 = Date.now();
  const trained = await loadTrainedNetwork(join(tmp, 'quickstart-train'));
  try {
    const split = trained.built.splits.test;
    if (!split) throw new Error('the quickstart-train experiment has no test split');
    const [, h, w, c] = meta.input.shape;
    const per = h * w * c;
    const k = meta.classes.length;
    const n = split.size;
    const x = new Float32Array(n * per);
    const labels = new Int32Array(n);
    const logits = new Float32Array(n * k);
    const model = trained.built.model;
    model.eval();
    let at = 0;
    for (const b of split.batches(500)) {
      try {
        const m = b.x.shape[0];
        x.set(b.x.dataSync(), at * per);
        labels.set(b.y.dataSync(), at);
        logits.set(tf.tidy(() => model.call(b.x).dataSync()), at * k);
        at += m;
      } finally {
        tf.dispose([b.x, b.y]);
      }
    }
    ref = { x, labels, logits, n, k, per };
  } finally {
    trained.dispose();
  }
  timings['@modnas reference forward'] = secs(t0);
  // the test set as one binary the server hands to the browser and the Node child
  mkdirSync(join(exportDir, 'testset'));
  writeFileSync(join(exportDir, 'testset', 'x.f32'), ref.x);
  serve = await startServe(exportDir);
}, 420_000);

afterAll(() => {
  serve?.child.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
  timings['whole file'] = secs(fileStart);
  console.log(`examples/web timings: ${JSON.stringify(timings, null, 1)}`);
});

describe('examples/web: the exported quickstart model gives @modnas\'s predictions outside @modnas', () => {
  it('the CLI exported both formats, and @modnas\'s accuracy on the whole test split is the one it reported', () => {
    expect(meta.input).toMatchObject({ name: 'input', shape: [-1, 28, 28, 1], layout: 'NHWC' });
    expect(onnxMeta.input).toMatchObject({ name: 'input', shape: [-1, 1, 28, 28], layout: 'NCHW' });
    expect(meta.output.name).toBe('logits');
    expect(meta.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(meta.metrics).toMatchObject({ test_size: 10_000, split: 'test' });
    expect(ref.n).toBe(10_000);
    const self = agreement(ref.logits, ref);
    expect(self.accuracy).toBe(meta.metrics.test_accuracy);
    expect(onnxMeta.metrics.test_accuracy).toBe(meta.metrics.test_accuracy);
    expect(reportedAccuracy).toBeCloseTo(meta.metrics.test_accuracy, 4);
    // a network that predicts most classes, so "the same prediction on every image" says something
    expect(self.classesPredicted).toBeGreaterThanOrEqual(8);
    expect(self.accuracy).toBeGreaterThan(0.25);
    timings['test accuracy'] = `${(self.accuracy * 100).toFixed(2)}% (${self.classesPredicted} classes predicted)`;
  });

  it('(a) onnxruntime-node: the same logits (≤ 1e-4), predictions and accuracy on all 10,000 images', async () => {
    const t0 = Date.now();
    const session = await ort.InferenceSession.create(join(exportDir, 'onnx', 'model.onnx'));
    const [, c, h, w] = onnxMeta.input.shape;
    const got = new Float32Array(ref.n * ref.k);
    const B = 1000;
    for (let s = 0; s < ref.n; s += B) {
      const n = Math.min(B, ref.n - s);
      const t = new Float32Array(n * ref.per);
      // NHWC -> NCHW
      for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let k = 0; k < c; k++) t[((b * c + k) * h + y) * w + z] = ref.x[((s + b) * h + y) * w * c + z * c + k];
      const res = await session.run({ [onnxMeta.input.name]: new ort.Tensor('float32', t, [n, c, h, w]) });
      got.set(res[onnxMeta.output.name].data as Float32Array, s * ref.k);
    }
    await session.release();
    const a = agreement(got, ref);
    timings['(a) onnxruntime-node'] = `${secs(t0)}, max |Δlogit| ${a.maxDiff.toExponential(2)}`;
    expect(a.maxDiff).toBeLessThanOrEqual(TOL);
    expect(a.argmaxDiffers).toBe(0);
    expect(a.accuracy).toBe(meta.metrics.test_accuracy);
  });

  it('(b) stock @tensorflow/tfjs in a Node child process that loads no @modnas code: the same logits on all 10,000 images', async () => {
    const t0 = Date.now();
    const outFile = join(tmp, 'tfjs-node.f32');
    // tfjs in Node: the model over HTTP from serve.mjs (tfjs' own http handler, Node's fetch); the
    // wasm backend on the whole split (tfjs' default Node backend, cpu, takes ~25 s per 1,000 images
    // here), and the cpu backend on the first 256 images too.
    const child = `
      import { readFileSync, writeFileSync } from 'node:fs';
      import { createRequire } from 'node:module';
      import * as ns from '@tensorflow/tfjs';
      import '@tensorflow/tfjs-backend-wasm';
      const tf = ns.default ?? ns;
      const [url, xFile, outFile, cpuN] = process.argv.slice(1);
      const buf = readFileSync(xFile);
      const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
      const res = { backends: {} };
      for (const [backend, n] of [['wasm', x.length / 784], ['cpu', Number(cpuN)]]) {
        await tf.setBackend(backend);
        const model = await tf.loadGraphModel(url);
        const [, h, w, c] = model.inputs[0].shape;
        const per = h * w * c;
        const out = [];
        const t = Date.now();
        for (let s = 0; s < n; s += 500) {
          const m = Math.min(500, n - s);
          const y = model.execute({ input: tf.tensor4d(x.subarray(s * per, (s + m) * per), [m, h, w, c]) }, 'logits');
          out.push(await y.data());
          tf.dispose(y);
          // data() resolves without a turn of the event loop; let it see the server's idle
          // keep-alive closes, or the next load reuses a closed socket ("other side closed")
          await new Promise((r) => setImmediate(r));
        }
        res.backends[backend] = { n, ms: Date.now() - t, got: tf.getBackend() };
        const all = new Float32Array(out.reduce((a, b) => a + b.length, 0));
        let at = 0;
        for (const o of out) { all.set(o, at); at += o.length; }
        writeFileSync(outFile + '.' + backend, all);
        model.dispose();
      }
      res.loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(res));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', child, `${serve.url}model/tfjs/model.json`, join(exportDir, 'testset', 'x.f32'), outFile, '256'], { cwd: here, maxBuffer: 16 << 20 });
    const res = JSON.parse(stdout.trim().split('\n').pop()!) as { backends: Record<string, { n: number; ms: number; got: string }>; loaded: string[] };
    // stock tfjs only: nothing from the workspace's packages/plugins, no @modnas module
    expect(res.loaded.some((f) => f.includes('tfjs-core'))).toBe(true);
    expect(res.loaded.filter((f) => /@modnas|[\\/](packages|plugins)[\\/]/.test(f.replace(ROOT, '')))).toEqual([]);
    expect(res.backends.wasm).toMatchObject({ n: 10_000, got: 'wasm' });
    const a = agreement(readFloats(`${outFile}.wasm`), ref);
    expect(a.maxDiff).toBeLessThanOrEqual(TOL);
    expect(a.argmaxDiffers).toBe(0);
    expect(a.accuracy).toBe(meta.metrics.test_accuracy);
    expect(res.backends.cpu).toMatchObject({ n: 256, got: 'cpu' });
    const cpu = agreement(readFloats(`${outFile}.cpu`), ref, 256);
    expect(cpu.maxDiff).toBeLessThanOrEqual(TOL);
    expect(cpu.argmaxDiffers).toBe(0);
    timings['(b) tfjs in Node'] = `${secs(t0)} (wasm ${res.backends.wasm.ms} ms / 10,000, max |Δlogit| ${a.maxDiff.toExponential(2)}; cpu ${res.backends.cpu.ms} ms / 256, max ${cpu.maxDiff.toExponential(2)})`;
  });

  it('serve.mjs serves the page, the runtimes and the model, and nothing outside them', async () => {
    const { url } = serve;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    for (const p of ['/', '/app.js', '/vendor/tfjs/tf.min.js', '/vendor/tfjs-backend-wasm/tf-backend-wasm.min.js', '/vendor/onnxruntime-web/ort.wasm.min.mjs', '/model/tfjs/modnas.json', '/model/onnx/model.onnx']) {
      const r = await rawGet(url, p);
      expect(r.status, p).toBe(200);
    }
    const page = await rawGet(url, '/');
    expect(page.body).toContain('<script type="module" src="app.js">');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect((await rawGet(url, '/vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm')).headers['content-type']).toBe('application/wasm');
    expect((await rawGet(url, '/model/tfjs/model.json')).body).toBe(readFileSync(join(exportDir, 'tfjs', 'model.json'), 'latin1'));

    // a link inside the model folder that points out of it
    symlinkSync(join(tmp, 'quickstart-train', 'outputs', 'config.yaml'), join(exportDir, 'outside.yaml'));
    const escapes = [
      '/model/../quickstart-train/outputs/config.yaml',
      '/model/..%2fquickstart-train%2foutputs%2fconfig.yaml',
      '/model/%2e%2e/quickstart-train/outputs/config.yaml',
      '/model/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/model/tfjs/../../quickstart-train/outputs/config.yaml',
      '/vendor/tfjs/../package.json',
      '/vendor/tfjs/..%2fpackage.json',
      '/vendor/onnxruntime-web/..%2f..%2fpackage.json',
      '/model/outside.yaml',
    ];
    for (const p of escapes) {
      const r = await rawGet(url, p);
      expect(r.status, p).toBe(403);
      expect(r.body, p).not.toContain('quickstart');
    }
    // not in any root, or not a file
    for (const p of ['/serve.mjs', '/package.json', '/web.test.ts', '/node_modules/.bin/vitest', '/model/', '/model//etc/passwd', '/model/tfjs', '/vendor/']) expect((await rawGet(url, p)).status, p).toBe(404);
    expect((await rawGet(url, '/model/%E0%A4%A')).status).toBe(400);
    expect((await rawGet(url, '/model/a%00b')).status).toBe(400);
    expect((await rawGet(url, '/', 'POST')).status).toBe(405);
    // bound to 127.0.0.1: another address of this machine does not answer
    const other = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) await expect(rawGet(url.replace('127.0.0.1', other.address), '/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('serve.mjs says what to pass when the folder holds no export', async () => {
    const run = promisify(execFile);
    const err = await run(process.execPath, [join(here, 'serve.mjs'), join(tmp, 'quickstart')]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain('holds no tfjs/modnas.json or onnx/modnas.json');
    expect(err?.stderr).toContain('modnas export');
    const one = await run(process.execPath, [join(here, 'serve.mjs'), join(exportDir, 'tfjs')]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(one?.stderr).toContain(`pass its parent, ${exportDir}`);
    // the experiment folder works as well as its export/ (here the export went to --out, so no)
    const usage = await run(process.execPath, [join(here, 'serve.mjs')]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(usage?.code).toBe(2);
    expect(usage?.stderr).toContain('Usage: node examples/web/serve.mjs <model-folder>');
  });
});

if (required) {
  it('Chromium is there (MODNAS_REQUIRE_SERVICES=1: the web example\'s browser tests must run)', () => {
    expect(chromium, `no Chromium at MODNAS_TEST_CHROMIUM="${process.env.MODNAS_TEST_CHROMIUM ?? ''}": apt-get install chromium, or point MODNAS_TEST_CHROMIUM at it`).toBe(true);
  });
}

/** A page result as plain arrays (what page.evaluate can return). */
interface Shown {
  name: string;
  input: number[];
  tfjs: number[];
  onnx: number[];
}

interface PageApi {
  ready: Promise<void>;
  runTfjs(x: Float32Array, n: number): Promise<Float32Array>;
  runOnnx(x: Float32Array, n: number): Promise<Float32Array>;
  app: { tfjs: { backend: string }; onnx: { threads: number }; results: Array<{ name: string; input: Float32Array; tfjs: Float32Array; onnx: Float32Array }> };
}

describe.skipIf(!chromium)(`examples/web in Chromium${chromium ? '' : ' (skipped: no Chromium found; apt-get install chromium or set MODNAS_TEST_CHROMIUM)'}`, () => {
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const t0 = Date.now();
    browser = await pw.launch({ executablePath: chromiumPath, args: ARGS });
    page = await browser.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(serve.url);
    await page.waitForFunction('document.body.dataset.state !== "loading"', null, { timeout: 90_000 });
    const state = await page.evaluate('[document.body.dataset.state, document.querySelector("#error").textContent]');
    expect(state, 'the page did not start').toEqual(['ready', '']);
    timings['page start (Chromium launch, both models loaded)'] = secs(t0);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** One runtime of the page over the whole test set (one binary from the server, chunks of 1,000). */
  async function wholeSplit(runtime: 'runTfjs' | 'runOnnx'): Promise<{ logits: number[]; ms: number }> {
    return page.evaluate(
      async ({ runtime, per }) => {
        const w = (globalThis as unknown as { modnasWeb: PageApi }).modnasWeb;
        await w.ready;
        const x = new Float32Array(await (await fetch('model/testset/x.f32')).arrayBuffer());
        const n = x.length / per;
        const out: number[] = [];
        const t = performance.now();
        for (let s = 0; s < n; s += 1000) {
          const m = Math.min(1000, n - s);
          out.push(...(await w[runtime](x.subarray(s * per, (s + m) * per), m)));
        }
        return { logits: out, ms: performance.now() - t };
      },
      { runtime, per: ref.per },
    );
  }

  it('(c) TensorFlow.js in Chromium (the page\'s wasm backend): the same logits, predictions and accuracy on all 10,000 images', async () => {
    const t0 = Date.now();
    expect(await page.evaluate('modnasWeb.app.tfjs.backend')).toBe('wasm');
    const { logits, ms } = await wholeSplit('runTfjs');
    const a = agreement(logits, ref);
    timings['(c) Chromium tfjs (wasm)'] = `${secs(t0)} (${ms.toFixed(0)} ms in the page), max |Δlogit| ${a.maxDiff.toExponential(2)}`;
    expect(a.maxDiff).toBeLessThanOrEqual(TOL);
    expect(a.argmaxDiffers).toBe(0);
    expect(a.accuracy).toBe(meta.metrics.test_accuracy);
  });

  it('(d) onnxruntime-web in Chromium (wasm): the same logits, predictions and accuracy on all 10,000 images', async () => {
    const t0 = Date.now();
    const { logits, ms } = await wholeSplit('runOnnx');
    const a = agreement(logits, ref);
    timings['(d) Chromium onnxruntime-web'] = `${secs(t0)} (${ms.toFixed(0)} ms in the page, ${String(await page.evaluate('modnasWeb.app.onnx.threads'))} threads), max |Δlogit| ${a.maxDiff.toExponential(2)}`;
    expect(a.maxDiff).toBeLessThanOrEqual(TOL);
    expect(a.argmaxDiffers).toBe(0);
    expect(a.accuracy).toBe(meta.metrics.test_accuracy);
  });

  it('a user picks MNIST test images as PNG files (and drops one): the page prepares them as @modnas did and shows both models\' predictions', async () => {
    const pre = meta.preprocess;
    const picks = [0, 1, 2, 3, 4, 5, 6, 7];
    const files = picks.map((i) => {
      // the original bytes back from the normalised input (exact: one grey level is 0.0127 apart)
      const px = Uint8Array.from(ref.x.subarray(i * ref.per, (i + 1) * ref.per), (v) => Math.round((v * pre.std[0] + pre.mean[0]) * 255));
      expect(normalizePixels(px, { ...pre, channels: 1 })).toEqual(ref.x.subarray(i * ref.per, (i + 1) * ref.per));
      return { name: `mnist-test-${i}.png`, mimeType: 'image/png', buffer: encodePng(px, 28, 28, 1) };
    });
    const before = await page.evaluate<number>('modnasWeb.app.results.length');
    await page.setInputFiles('#file', files.slice(0, -1));
    // the last one dropped on the drop zone
    const last = files[files.length - 1];
    const dropped = await page.evaluateHandle(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob('${last.buffer.toString('base64')}'), (c) => c.charCodeAt(0))], '${last.name}', { type: 'image/png' }));
      return dt;
    })()`);
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dropped });
    await page.waitForFunction(`modnasWeb.app.results.length === ${before + files.length}`, null, { timeout: 30_000 });
    const shown = await page.$$eval('#results li.result', (lis) => lis.map((li) => ({
      name: li.getAttribute('data-name'),
      tfjs: [...li.querySelectorAll('[data-runtime="tfjs"] .top li')].map((x) => Number(x.getAttribute('data-index'))),
      onnx: [...li.querySelectorAll('[data-runtime="onnx"] .top li')].map((x) => Number(x.getAttribute('data-index'))),
      probs: [...li.querySelectorAll('[data-runtime="onnx"] .top li')].map((x) => Number(x.getAttribute('data-prob'))),
    })));
    const results = await page.evaluate<Shown[]>('modnasWeb.app.results.map((r) => ({ name: r.name, input: Array.from(r.input), tfjs: Array.from(r.tfjs), onnx: Array.from(r.onnx) }))');
    for (const [j, i] of picks.entries()) {
      const name = files[j].name;
      const want = argmax(ref.logits, i * ref.k, ref.k);
      const row = shown.find((s) => s.name === name);
      expect(row, name).toBeDefined();
      // the top class shown, in both columns, is the model's prediction; top-3, best first
      expect(row!.tfjs[0], name).toBe(want);
      expect(row!.onnx[0], name).toBe(want);
      expect(row!.tfjs).toHaveLength(3);
      expect(row!.probs).toEqual([...row!.probs].sort((a, b) => b - a));
      // the page's input is @modnas's input, and its logits are @modnas's
      const r = results.find((x) => x.name === name)!;
      expect(r.input).toEqual(Array.from(ref.x.subarray(i * ref.per, (i + 1) * ref.per)));
      for (const key of ['tfjs', 'onnx'] as const) {
        const d = Math.max(...r[key].map((v, c) => Math.abs(v - ref.logits[i * ref.k + c])));
        expect(d, `${name} ${key}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  it('a larger or a coloured image: the browser\'s resize and luminance against sharp\'s (what `modnas predict` and training use)', async () => {
    const pre = meta.preprocess;
    // MNIST test image 0 blown up 4x (nearest), so the page shrinks it 112 -> 28
    const i = 0;
    const small = Uint8Array.from(ref.x.subarray(i * ref.per, (i + 1) * ref.per), (v) => Math.round((v * pre.std[0] + pre.mean[0]) * 255));
    const S = 4;
    const big = new Uint8Array(28 * S * 28 * S);
    for (let y = 0; y < 28 * S; y++) for (let x = 0; x < 28 * S; x++) big[y * 28 * S + x] = small[Math.floor(y / S) * 28 + Math.floor(x / S)];
    const bigPng = encodePng(big, 28 * S, 28 * S, 1);
    // colours: the page's luminance against libvips' sRGB -> B_W
    const colours = new Uint8Array(28 * 28 * 3);
    for (let p = 0; p < 28 * 28; p++) for (let c = 0; c < 3; c++) colours[3 * p + c] = (p * [37, 101, 53][c] + c * 71) % 256;
    const colourPng = encodePng(colours, 28, 28, 3);
    const before = await page.evaluate<number>('modnasWeb.app.results.length');
    await page.setInputFiles('#file', [
      { name: 'big.png', mimeType: 'image/png', buffer: bigPng },
      { name: 'colours.png', mimeType: 'image/png', buffer: colourPng },
    ]);
    await page.waitForFunction(`modnasWeb.app.results.length === ${before + 2}`, null, { timeout: 30_000 });
    const inputs = await page.evaluate<Record<string, number[]>>('Object.fromEntries(modnasWeb.app.results.slice(-2).map((r) => [r.name, Array.from(r.input)]))');
    // (+ 0: no -0 from the darkest pixels)
    const toGrey = (x: number[]): number[] => x.map((v) => Math.round((v * pre.std[0] + pre.mean[0]) * 255) + 0);
    const spec = { height: pre.height, width: pre.width, channels: pre.channels, resize: pre.resize, inner: pre.inner };
    const sharpBig = await readImagePixels(bigPng, spec);
    const sharpColours = await readImagePixels(colourPng, spec);
    const diff = (a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } => {
      const d = Array.from(a, (v, j) => Math.abs(v - b[j]));
      return { max: Math.max(...d), mean: d.reduce((s, v) => s + v, 0) / d.length };
    };
    // Chromium's shrink by a whole factor gives back the original pixels; sharp's linear kernel,
    // widened to the scale, blurs across the blown-up pixels' edges (README: where they differ)
    expect(toGrey(inputs['big.png'])).toEqual(Array.from(small));
    const bySharp = diff(sharpBig, small);
    expect(bySharp.mean).toBeGreaterThan(0);
    // luminance: libvips rounds its own way, so some colours land one grey level apart
    const col = diff(toGrey(inputs['colours.png']), sharpColours);
    expect(col.max).toBeLessThanOrEqual(1);
    expect(col.mean).toBeLessThan(0.25);
    timings['browser vs sharp (grey levels)'] = `112->28: Chromium = original, sharp off by max ${bySharp.max}, mean ${bySharp.mean.toFixed(2)}; colour -> luminance: max ${col.max}, mean ${col.mean.toFixed(3)}`;
  });

  it('a user draws a digit on the canvas: it is framed as MNIST\'s digits are, and both columns show the models\' prediction', async () => {
    const box = (await page.locator('#pad').boundingBox())!;
    const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    // a "7": the bar, then the stem
    await page.mouse.move(...at(0.25, 0.2));
    await page.mouse.down();
    await page.mouse.move(...at(0.75, 0.2), { steps: 8 });
    await page.mouse.move(...at(0.45, 0.85), { steps: 12 });
    await page.mouse.up();
    const before = await page.evaluate<number>('modnasWeb.app.results.length');
    await page.click('#classify-drawing');
    await page.waitForFunction(`modnasWeb.app.results.length === ${before + 1}`, null, { timeout: 30_000 });
    const r = await page.evaluate<Shown>('(() => { const r = modnasWeb.app.results.at(-1); return { name: r.name, input: Array.from(r.input), tfjs: Array.from(r.tfjs), onnx: Array.from(r.onnx) }; })()');
    expect(r.name).toBe('drawing 1');
    // MNIST framing: ink inside 20x20, centre of mass at the centre of 28x28
    const pre = meta.preprocess;
    const grey = r.input.map((v) => Math.round((v * pre.std[0] + pre.mean[0]) * 255));
    let [x0, y0, x1, y1, m, mx, my] = [28, 28, -1, -1, 0, 0, 0];
    grey.forEach((v, p) => {
      const [x, y] = [p % 28, Math.floor(p / 28)];
      if (v > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      [m, mx, my] = [m + v, mx + v * (x + 0.5), my + v * (y + 0.5)];
    });
    expect(x1 - x0 + 1).toBeLessThanOrEqual(21);
    expect(y1 - y0 + 1).toBeLessThanOrEqual(21);
    expect(Math.max(x1 - x0, y1 - y0) + 1).toBeGreaterThanOrEqual(18);
    expect(Math.abs(mx / m - 14)).toBeLessThanOrEqual(1);
    expect(Math.abs(my / m - 14)).toBeLessThanOrEqual(1);
    // the page's two runtimes against onnxruntime-node on the page's own input
    const session = await ort.InferenceSession.create(join(exportDir, 'onnx', 'model.onnx'));
    const node = Array.from((await session.run({ input: new ort.Tensor('float32', Float32Array.from(r.input), [1, 1, 28, 28]) })).logits.data as Float32Array);
    await session.release();
    const want = argmax(node, 0, ref.k);
    for (const key of ['tfjs', 'onnx'] as const) expect(Math.max(...r[key].map((v, j) => Math.abs(v - node[j]))), key).toBeLessThanOrEqual(TOL);
    const shown = await page.$$eval('#results li.result[data-name="drawing 1"] [data-runtime] .top li:first-child', (lis) => lis.map((li) => Number(li.getAttribute('data-index'))));
    expect(shown).toEqual([want, want]);
  });

  it('the page loaded nothing but its own server\'s files, no @modnas code, and threw no error', () => {
    const origin = serve.url;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);
    expect(requests.filter((u) => /@modnas|\/packages\/|\/plugins\//.test(u))).toEqual([]);
    expect(requests.some((u) => u.endsWith('/vendor/tfjs/tf.min.js'))).toBe(true);
    expect(requests.some((u) => u.includes('/vendor/onnxruntime-web/'))).toBe(true);
    expect(errors).toEqual([]);
  });
});
