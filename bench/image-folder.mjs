#!/usr/bin/env node
/* global setInterval, clearInterval */
// ImageFolder at scale: folders of 5,000 and 20,000 PNG files (MNIST digits from @modnas/dataset-mnist,
// written to a temp folder, not committed) with one corrupt file planted, each searched (`modnas run`)
// and trained (`modnas train`) through the real CLI. Records wall time and peak RSS (the kernel's
// VmHWM of the modnas process, polled from /proc), and checks that each run finishes and names the
// corrupt file in its log. Memory should not grow with the number of files beyond the file list:
// the decoded-image cache is set smaller than either folder (--cache-mb, default 2), so both sizes
// hold the same decoded images and differ only by their file lists.
// Usage: node bench/image-folder.mjs [--sizes 5000,20000] [--test 1000] [--cache-mb 2] [--keep] [--write]
//   (--write: replace this benchmark's section of bench/RESULTS.md). Needs a build:
//   pnpm turbo run build --filter @modnas/cli... --filter @modnas/dataset-image-folder... --filter @modnas/dataset-mnist...
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from './sections.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']] : acc), []),
);
const SIZES = (args.sizes ?? '5000,20000').split(',').map(Number);
const TEST = Number(args.test ?? 1000);
const CACHE_MB = Number(args['cache-mb'] ?? 2);
const bin = join(root, 'packages/cli/dist/bin.js');
// sharp comes with @modnas/kit-image
const sharp = createRequire(join(root, 'packages/kit-image/package.json'))('sharp');
const { loadMnist, mnistSchema } = await import(join(root, 'plugins/dataset-mnist/dist/index.js'));
const { silentLogger } = await import(join(root, 'packages/core/dist/index.js'));

if (args.pipeline) {
  // child mode: the data pipeline alone, on one folder: passes of shuffled, augmented batches with
  // no decoded-image cache (every image decoded every pass); heap and RSS after each pass
  const { tf, Rng } = await import(join(root, 'packages/core/dist/index.js'));
  const engine = await import(join(root, 'packages/engine-native/dist/index.js'));
  await engine.wasmEngine.setup(tf); // registers native too, where the addon built
  await tf.setBackend('native');
  const { imageFolderDataset, imageFolderSchema } = await import(join(root, 'plugins/dataset-image-folder/dist/index.js'));
  const ds = imageFolderDataset(imageFolderSchema.parse({ path: args.pipeline, image_size: 28, channels: 1, cache_mb: 0, normalize: 'none', augment: { crop_padding: 2 } }), silentLogger);
  const rng = new Rng(0);
  const passes = [];
  for (let pass = 0; pass < 3; pass++) {
    const t = Date.now();
    for (const b of ds.train.batches(32, { shuffle: true, rng, augment: true })) tf.dispose([b.x, b.y]);
    globalThis.gc();
    const mem = process.memoryUsage();
    passes.push({ seconds: (Date.now() - t) / 1000, heapMb: mem.heapUsed / 2 ** 20, rssMb: mem.rss / 2 ** 20, tensors: tf.memory().numTensors });
  }
  console.log(JSON.stringify({ images: ds.train.size, passes }));
  process.exit(0);
}

const mnist = loadMnist(mnistSchema.parse({}), silentLogger);
const work = mkdtempSync(join(tmpdir(), 'modnas-bench-image-folder-'));

function pipeline(dir) {
  return new Promise((res) => {
    const c = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--pipeline', dir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.on('exit', () => res(JSON.parse(out.trim().split('\n').at(-1))));
  });
}

/** Write images [from, from + n) of `images` as PNG files under dir/<digit>/. */
async function writePngs(dir, images, labels, n) {
  const per = 28 * 28;
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const d = join(dir, String(labels[i]));
      mkdirSync(d, { recursive: true });
      await sharp(Buffer.from(images.subarray(i * per, (i + 1) * per)), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(d, `${String(i).padStart(5, '0')}.png`));
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
}

function config(name, path) {
  return `name: ${name}
seed: 0
data: { type: ImageFolder, path: ${JSON.stringify(path)}, image_size: 28, channels: 1, cache_mb: ${CACHE_MB} }
data_provider: { train_portion: 0.5 }
model: { type: MobileNetV2, cfgs: [[0, 16, 1, 1], [1, 8, 1, 1], [6, 16, 2, 2], [6, 24, 2, 2]] }
construct:
  search: { type: MobileNetV2SearchConstructor, mixed_op: { type: BinGate }, primitives: [MB3E3, MB3E6] }
trainer: { type: DefaultTrainer, lr: 0.04, batch_size: 32 }
optim: { type: BinaryGateOptim, lr: 0.1 }
estim:
  warmup: { type: DefaultEstimator, epochs: 1 }
  search: { type: SuperNetEstimator, epochs: 1 }
export:
  default: { type: DefaultSlotTraversalExporter }
`;
}

/** Run the CLI; peak RSS from the kernel's high-water mark, polled every 100 ms. */
function modnas(argv) {
  return new Promise((res) => {
    const t0 = Date.now();
    const c = spawn(process.execPath, [bin, ...argv], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let hwm = 0;
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch {
        // gone
      }
    }, 100);
    c.on('exit', (code) => {
      clearInterval(poll);
      res({ code, out, seconds: (Date.now() - t0) / 1000, peakMb: hwm / 1024 });
    });
  });
}

const rows = [];
const pipes = [];
try {
  for (const n of SIZES) {
    const dir = join(work, `mnist-${n}`);
    const t0 = Date.now();
    await writePngs(join(dir, 'train'), mnist.trainImages, mnist.trainLabels, n);
    await writePngs(join(dir, 'test'), mnist.testImages, mnist.testLabels, TEST);
    const good = readFileSync(join(dir, 'train', '3', readdirSync(join(dir, 'train', '3')).sort()[0]));
    const corrupt = join(dir, 'train', '3', 'corrupt.png');
    writeFileSync(corrupt, good.subarray(0, good.length >> 1));
    console.log(`${n}: wrote ${n} + ${TEST} PNG files and ${corrupt} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const pipe = await pipeline(join(dir, 'train'));
    pipes.push({ n, ...pipe });
    console.log(JSON.stringify(pipes.at(-1)));
    const yaml = join(work, `search-${n}.yaml`);
    writeFileSync(yaml, config(`if${n}`, dir));
    const out = join(work, 'exp');
    const search = await modnas(['run', yaml, '--output-dir', out]);
    const arch = join(out, `if${n}`, 'outputs', 'arch_search_best.yaml');
    const train = existsSync(arch) ? await modnas(['train', yaml, '--arch', arch, '--output-dir', out]) : { code: -1, out: 'no arch', seconds: 0, peakMb: 0 };
    for (const [what, r, exp] of [
      ['search (`modnas run`)', search, `if${n}`],
      ['train (`modnas train`)', train, `if${n}-train`],
    ]) {
      const logFile = join(out, exp, 'logs', 'run.log');
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : r.out;
      const reported = log.includes(`ImageFolder: skipped ${corrupt}: `);
      const acc = [...log.matchAll(/ acc=([\d.]+)/g)].at(-1)?.[1];
      const row = { n, what, code: r.code, seconds: r.seconds, peakMb: r.peakMb, reported, acc };
      rows.push(row);
      console.log(JSON.stringify(row));
      if (r.code !== 0) console.error(r.out.slice(-3000));
    }
  }
} finally {
  if (args.keep !== 'true') rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

const pass = (p) => `${p.seconds.toFixed(1)} s, heap ${p.heapMb.toFixed(1)} MB, RSS ${p.rssMb.toFixed(0)} MB`;
const fmtPipe = (p) => `| ${p.n.toLocaleString('en-US')} | ${((p.images / p.passes[2].seconds) | 0).toLocaleString('en-US')} | ${p.passes.map(pass).join(' | ')} |`;
const fmt = (r) => `| ${r.n.toLocaleString('en-US')} | ${r.what} | ${r.code === 0 ? 'done' : `exit ${r.code}`} | ${r.seconds.toFixed(0)} s | ${r.peakMb.toFixed(0)} MB | ${r.reported ? 'yes, by path' : 'NO'} | ${r.acc ?? '-'} |`;
const body = `## Folders of image files (ImageFolder)

\`node bench/image-folder.mjs --write\` (${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores shared, load ${loadavg()[0].toFixed(1)} at the end).
MNIST digits written as PNG files (28x28 grey) to \`train/<digit>/\` (the first N training images) and
\`test/<digit>/\` (the first ${TEST.toLocaleString('en-US')} test images), with a truncated PNG planted in \`train/3/\`.
A short search (MobileNetV2 space, BinGate over MB3E3/MB3E6, 1 warm-up + 1 search epoch on half the
training images, batch 32), then \`modnas train\` of the architecture found (1 epoch on all training
images, validated on test/). \`cache_mb: ${CACHE_MB}\`: the decoded-image cache is smaller than either
folder, so what differs between the sizes is the file list. Peak RSS is the modnas process's VmHWM:
mostly the network, tfjs and the store, and it moves by tens of MB from run to run; the data
pipeline's own share is measured alone below.

| training images | command | result | wall | peak RSS | corrupt file reported | last acc |
|---|---|---|---|---|---|---|
${rows.map(fmt).join('\n')}

The data pipeline alone (\`--pipeline\`: the training folder, shuffled batches of 32 with a random
crop, \`cache_mb: 0\` so every image is decoded on every pass, no network), heap and RSS after each
pass (after a GC): flat across passes, so nothing is kept per image decoded; between the sizes the heap
differs by the file list.

| files | images/s | pass 1 | pass 2 | pass 3 |
|---|---|---|---|---|
${pipes.map(fmtPipe).join('\n')}
`;
console.log(body);
if (args.write === 'true') console.log(`wrote ${writeSection('image-folder.mjs', body)}`);
if (rows.some((r) => r.code !== 0 || !r.reported)) process.exitCode = 1;
