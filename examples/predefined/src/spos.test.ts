// SPOS through the built `modnas` command: `modnas run native/spos.yaml` trains the supernet on
// uniformly sampled paths (RandomSamplingEstim), ranks the paths an evolution proposes with the
// inherited weights (SubNetEstim, batch norm recomputed per path), then `modnas train` trains the
// path it found from scratch. Budgets are cut with -o to keep the test short.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const config = fileURLToPath(new URL('../native/spos.yaml', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'modnas-spos-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** `modnas <args>` to its end on the wasm engine (deterministic, no compiler needed): exit code and output. */
function modnas(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [bin, ...args, '--output-dir', out, '-q'], { cwd: root, env: { ...process.env, MODNAS_BACKEND: 'wasm', ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

const jsonl = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

interface Summary {
  numParams: number;
  estims: Record<string, { type: string; metrics: Record<string, number>; best?: { arch: Record<string, string>; score: number } }>;
}
const summary = (dir: string): Summary => JSON.parse(readFileSync(join(out, dir, 'outputs', 'summary.json'), 'utf8')) as Summary;

// 256 training images in batches of 32: 8 sampled paths per supernet epoch; 12 candidates, the first 6 random
const SMALL = ['-o', 'data_provider.train_size=256', '-o', 'data_provider.valid_size=64', '-o', 'trainer.batch_size=32'];
const STEPS = 8;
const POPULATION = 6;
const CANDIDATES = 12;

describe('SPOS on the MobileNetV2 space (examples/predefined/native/spos.yaml)', () => {
  it('trains the supernet on sampled paths, evolves paths with the inherited weights, then trains the path found', async () => {
    const search = await modnas(['run', config, ...SMALL, '-o', 'estim.search.epochs=2', '-o', `optim.population_size=${POPULATION}`, '-o', `estim.select.num_candidates=${CANDIDATES}`]);
    expect(search.code, search.stderr).toBe(0);
    const s = summary('spos');
    expect(s.estims.search.type).toBe('RandomSamplingEstim');
    expect(s.estims.select.type).toBe('SubNetEstim');

    // the supernet: each epoch trained STEPS paths, (almost) all of them different
    const epochs = jsonl(join(out, 'spos', 'logs', 'metrics.jsonl')).filter((m) => m.estim === 'search');
    expect(epochs.map((m) => m.epoch)).toEqual([0, 1]);
    for (const m of epochs) expect(m.paths as number).toBeGreaterThanOrEqual(STEPS - 1);

    // the evolution: CANDIDATES paths evaluated with the supernet's weights, each a distinct network
    const cands = jsonl(join(out, 'spos', 'logs', 'candidates.jsonl')).filter((c) => c.estim === 'select');
    expect(cands.map((c) => c.index)).toEqual([...Array(CANDIDATES).keys()]);
    expect(cands.every((c) => c.status === 'done' && typeof c.score === 'number')).toBe(true);
    const archs = cands.map((c) => c.arch as Record<string, string>);
    expect(new Set(archs.map((a) => JSON.stringify(a))).size).toBeGreaterThan(CANDIDATES / 2);
    // after the random population, every child is a parent from the population with one block changed
    const differ = (a: Record<string, string>, b: Record<string, string>): number => Object.keys(a).filter((k) => a[k] !== b[k]).length;
    for (let i = POPULATION; i < CANDIDATES; i++) expect(archs.slice(0, i).some((p) => differ(p, archs[i]) === 1), `candidate ${i}`).toBe(true);
    // scores differ between paths (each measured with its own recomputed batch-norm statistics)
    expect(new Set(cands.map((c) => c.score)).size).toBeGreaterThan(1);
    const best = s.estims.select.best!;
    expect(best.score).toBe(Math.max(...cands.map((c) => c.score as number)));

    // the path found, as one op per block
    const archFile = join(out, 'spos', 'outputs', 'arch_select_best.yaml');
    expect(existsSync(archFile)).toBe(true);
    const desc = readFileSync(archFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('- '))
      .map((l) => l.slice(2).trim());
    expect(desc.slice(1)).toEqual(Object.values(best.arch));

    // trained from scratch: the fixed network (one path of the supernet) learns
    // (on 1,024 images: 64 steps in all)
    const train = await modnas(['train', config, '--arch', archFile, ...SMALL, '-o', 'data_provider.train_size=1024', '-o', 'estim.train.epochs=2']);
    expect(train.code, train.stderr).toBe(0);
    const log = readFileSync(join(out, 'spos-train', 'logs', 'run.log'), 'utf8');
    expect(log).toContain('desc_construct: MobileNetV2ArchDescConstructor');
    expect(log).toMatch(/DefaultEstimator "train" \(2 epochs\) in place of the search's estimators search \(RandomSamplingEstimator\), select \(SubNetEstimator\)/);
    const t = summary('spos-train');
    expect(Object.keys(t.estims)).toEqual(['train']);
    expect(t.numParams).toBeLessThan(s.numParams);
    const trained = jsonl(join(out, 'spos-train', 'logs', 'metrics.jsonl'));
    expect(trained.map((m) => m.epoch)).toEqual([0, 1]);
    expect(trained[1].train_loss as number).toBeLessThan(trained[0].train_loss as number);
    expect(t.estims.train.metrics.acc).toBeGreaterThan(0.3);
  }, 180_000);

  it('a run killed while training the supernet resumes to the same paths, losses and candidates as an uninterrupted one', async () => {
    // 3 supernet epochs of 8 steps, a checkpoint after each; killed at step 20 (epoch 3), after the checkpoint of epoch 2
    const args = (name: string): string[] => ['run', config, '--name', name, ...SMALL, '-o', 'estim.search.epochs=3', '-o', 'checkpoint.epochs=1', '-o', 'optim.population_size=4', '-o', 'estim.select.num_candidates=4'];
    expect((await modnas(args('ref'))).code).toBe(0);
    const killed = await modnas(args('killed'), { MODNAS_TEST_KILL_AT: 'step:search@20' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const resumed = await modnas([...args('killed'), '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readFileSync(join(out, 'killed', 'logs', 'run.log'), 'utf8')).toMatch(/resuming run r1 from checkpoint \d+ \(epoch boundary of estim search/);
    const epochs = (name: string) => jsonl(join(out, name, 'logs', 'metrics.jsonl'));
    const cands = (name: string) => jsonl(join(out, name, 'logs', 'candidates.jsonl'));
    const [got, ref] = [epochs('killed'), epochs('ref')];
    expect(got.map((m) => [m.estim, m.epoch, m.paths])).toEqual(ref.map((m) => [m.estim, m.epoch, m.paths]));
    got.forEach((m, i) => expect(m.train_loss as number, `epoch ${i}`).toBeCloseTo(ref[i].train_loss as number, 5));
    expect(cands('killed').map((c) => [c.index, c.arch])).toEqual(cands('ref').map((c) => [c.index, c.arch]));
    cands('killed').forEach((c, i) => expect(c.score as number, `candidate ${i}`).toBeCloseTo(cands('ref')[i].score as number, 5));
    expect(summary('killed').estims.select.best).toEqual(summary('ref').estims.select.best);
  }, 180_000);
});
