// ImageFolder through the real `modnas` binary: a quick search and then `modnas train` of the
// architecture it found, on ~200 generated images with one corrupt file planted. Both runs finish,
// both logs and summaries name the corrupt file as skipped, and the trained network exports with
// the folder's class names and normalisation and classifies the images by name.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'modnas-image-folder-e2e-'));
const data = join(tmp, 'shapes');
const bad = join(data, 'ring', 'broken.png');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Class 0: a bright square in the centre; 1: a bright ring; 2: a horizontal bar; with noise. */
async function shapes(perClass: number): Promise<void> {
  const s = 16;
  let seed = 1;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % 60;
  };
  const names = ['square', 'ring', 'bar'];
  for (const [k, name] of names.entries()) {
    mkdirSync(join(data, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const raw = Buffer.alloc(s * s * 3);
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const r = Math.max(Math.abs(y - 7.5), Math.abs(x - 7.5));
          const on = k === 0 ? r < 4 : k === 1 ? r > 4 && r < 7 : Math.abs(y - 7.5) < 2.5;
          const v = (on ? 180 : 20) + noise();
          raw.set([v, v, v], (y * s + x) * 3);
        }
      }
      await sharp(raw, { raw: { width: s, height: s, channels: 3 } }).png().toFile(join(data, name, `${i}.png`));
    }
  }
  const png = readFileSync(join(data, 'ring', '0.png'));
  writeFileSync(bad, png.subarray(0, png.length >> 1));
  writeFileSync(join(data, 'ring', 'notes.txt'), 'generated shapes');
}

const config = `name: shapes
seed: 3
data: { type: ImageFolder, path: ${JSON.stringify(data)}, image_size: 16, channels: 1, augment: { crop_padding: 2 } }
data_provider: { train_portion: 0.5 }
model: { type: MobileNetV2, cfgs: [[0, 8, 1, 1], [1, 8, 1, 1], [6, 16, 1, 2]] }
construct:
  search: { type: MobileNetV2SearchConstructor, mixed_op: { type: BinGate }, primitives: [MB3E3, MB3E6] }
trainer: { type: DefaultTrainer, lr: 0.05, batch_size: 16 }
optim: { type: BinaryGateOptim }
estim:
  warmup: { type: DefaultEstimator, epochs: 1 }
  search: { type: SuperNetEstimator, epochs: 1 }
export:
  default: { type: DefaultSlotTraversalExporter }
`;

function modnas(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const runs = args[0] === 'run' || args[0] === 'train';
    const c = spawn(process.execPath, [bin, ...args, ...(runs ? ['--output-dir', join(tmp, 'exp')] : [])], { cwd: root, env: { ...process.env } });
    let out = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => res({ code, out }));
  });
}

describe('ImageFolder through the modnas binary', () => {
  beforeAll(async () => {
    await shapes(67);
    writeFileSync(join(tmp, 'search.yaml'), config);
  });

  it('searches and trains on a folder of images with a corrupt file: both finish and name the file as skipped', async () => {
    expect(existsSync(bin)).toBe(true);
    const search = await modnas(['run', join(tmp, 'search.yaml')]);
    expect(search.code, search.out).toBe(0);
    const log = readFileSync(join(tmp, 'exp', 'shapes', 'logs', 'run.log'), 'utf8');
    expect(log).toContain(`ImageFolder: ${data}: 3 classes (bar, ring, square); train 202 images`);
    expect(log).toContain(`ImageFolder: skipped ${bad}: `);
    expect(log).toContain('ImageFolder: 1 files that are not png, jpg, jpeg or webp ignored');
    expect(log).toContain('ImageFolder: augmentation: random crop 16 (pad 2)');
    const arch = join(tmp, 'exp', 'shapes', 'outputs', 'arch_search_best.yaml');
    expect(existsSync(arch)).toBe(true);

    const train = await modnas(['train', join(tmp, 'search.yaml'), '--arch', arch]);
    expect(train.code, train.out).toBe(0);
    const tlog = readFileSync(join(tmp, 'exp', 'shapes-train', 'logs', 'run.log'), 'utf8');
    expect(tlog).toContain(`ImageFolder: skipped ${bad}: `);
    const summary = JSON.parse(readFileSync(join(tmp, 'exp', 'shapes-train', 'outputs', 'summary.json'), 'utf8')) as { estims: Record<string, { status?: string }>; skipped?: unknown };
    expect(Object.keys(summary.estims)).toEqual(['train']);
    expect(summary.skipped).toEqual({ count: 1, files: [bad] });
    expect(train.out).toContain(`skipped 1 unreadable data file(s): ${bad}`);

    // the class names and the normalisation measured on the folder travel into the exported model
    const exported = await modnas(['export', join(tmp, 'exp', 'shapes-train'), '--format', 'both']);
    expect(exported.code, exported.out).toBe(0);
    const meta = JSON.parse(readFileSync(join(tmp, 'exp', 'shapes-train', 'export', 'onnx', 'modnas.json'), 'utf8')) as { classes: string[]; preprocess: { mean: number[]; std: number[]; channels: number } };
    expect(meta.classes).toEqual(['bar', 'ring', 'square']);
    const stats = /normalize auto: mean \[([\d., ]+)\], std \[([\d., ]+)\]/.exec(tlog);
    expect(stats).not.toBeNull();
    expect(meta.preprocess).toMatchObject({ channels: 1, mean: stats![1].split(', ').map(Number), std: stats![2].split(', ').map(Number) });
    const predicted = await modnas(['predict', join(tmp, 'exp', 'shapes-train', 'export'), join(data, 'bar', '1.png'), join(data, 'square', '2.png'), '--top', '3']);
    expect(predicted.code, predicted.out).toBe(0);
    for (const line of predicted.out.trim().split('\n').slice(-2)) expect(line).toMatch(/\.png {2}(bar|ring|square) \d+\.\d%, (bar|ring|square) \d+\.\d%, (bar|ring|square) \d+\.\d%$/);
  });
});
