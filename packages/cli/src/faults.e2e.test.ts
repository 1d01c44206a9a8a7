// The fault suite (issue 11): the real `modnas` command on a small training search (warm-up
// epochs, then a random search that trains each candidate), killed with SIGKILL at five points,
// resumed, and compared with an uninterrupted run; the store passes PRAGMA integrity_check after
// each. Also: kill -9 from outside halfway, a full disk, two processes on one experiment, SIGTERM,
// a rerun that starts a new run id.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JournalStore } from '@modnas/store-journal';
import { SqliteStore } from '@modnas/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentStore } from '@modnas/services';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const config = join(root, 'packages', 'cli', 'src', 'fixtures', 'fault-search.yaml');
const out = mkdtempSync(join(tmpdir(), 'modnas-faults-'));

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// The wasm engine: deterministic, and needs no compiler. Asynchronous spawns keep vitest's worker responsive.
const ENV = { ...process.env, MODNAS_BACKEND: 'wasm' };

function modnas(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((res) => {
    const c: ChildProcess = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...ENV, ...env } });
    lowPriority(c);
    let stdout = '';
    let stderr = '';
    c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}

/** The CLI children yield the CPU to the test workers (2 shared cores: a starved worker times out vitest's RPC). */
function lowPriority(c: ChildProcess): void {
  try {
    if (c.pid) setPriority(c.pid, 10);
  } catch {
    // not permitted here: run at normal priority
  }
}

const run = (name: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Result> => modnas(['run', config, '--output-dir', out, '--name', name, '-q', ...extra], env);

interface Trial {
  run: string;
  estim: string;
  index: number;
  arch: Record<string, string>;
  score: number;
  status: string;
}

function trials(name: string): Trial[] {
  const f = join(out, name, 'logs', 'candidates.jsonl');
  return existsSync(f) ? (readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) as Trial[]) : [];
}

function epochs(name: string): Array<{ estim: string; epoch: number; train_loss: number }> {
  return readFileSync(join(out, name, 'logs', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

function summary(name: string): { run: string; aborted: boolean; estims: Record<string, { best?: { arch: Record<string, string>; score: number }; metrics: Record<string, number> }> } {
  return JSON.parse(readFileSync(join(out, name, 'outputs', 'summary.json'), 'utf8'));
}

/** The experiment's store, whichever the run used (SQLite by default here, the journal with -o store.type=JournalStore). */
function store(name: string): ExperimentStore {
  const dir = join(out, name);
  return existsSync(join(dir, 'journal.jsonl')) ? new JournalStore(dir, name, undefined, { readOnly: true }) : new SqliteStore(join(dir, 'modnas.db'), name);
}

/** "ok" for a sound store: SQLite's integrity_check; for the journal, no complete line that fails to parse. */
function integrity(name: string): string {
  const s = store(name);
  try {
    return s instanceof SqliteStore ? s.integrityCheck() : (s as JournalStore).skipped === 0 ? 'ok' : `${(s as JournalStore).skipped} lines skipped`;
  } finally {
    s.close();
  }
}

function storeStatuses(name: string): string[] {
  const s = store(name);
  try {
    return s.runs().map((r) => `${r.id} ${r.status}`);
  } finally {
    s.close();
  }
}

async function runStatuses(name: string): Promise<string[]> {
  const r = await modnas(['report', join(out, name)]);
  return [...r.stdout.matchAll(/^\s+(r\d+)\s+(\w+)/gm)].map((m) => `${m[1]} ${m[2]}`);
}

/** The resumed run equals the uninterrupted one: same candidates in order, scores within float tolerance, same best. */
function expectSameAsReference(name: string): void {
  const ref = trials('ref');
  const got = trials(name);
  expect(got.map((t) => t.arch)).toEqual(ref.map((t) => t.arch));
  expect(got.map((t) => t.index)).toEqual(ref.map((t) => t.index));
  got.forEach((t, i) => expect(t.score).toBeCloseTo(ref[i].score, 5));
  expect(epochs(name).map((e) => [e.estim, e.epoch])).toEqual(epochs('ref').map((e) => [e.estim, e.epoch]));
  epochs(name).forEach((e, i) => expect(e.train_loss).toBeCloseTo(epochs('ref')[i].train_loss, 4));
  expect(summary(name).estims.search.best?.arch).toEqual(summary('ref').estims.search.best?.arch);
  expect(summary(name).aborted).toBe(false);
}

beforeAll(async () => {
  const r = await run('ref');
  expect(r.code, r.stderr).toBe(0);
  expect(trials('ref')).toHaveLength(6);
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('kill -9 at five points, resume, compare with the uninterrupted run', () => {
  // MODNAS_TEST_KILL_AT=<point>@<n>: SIGKILL at the n-th time the point is reached (checkpoint.ts).
  // 48 training examples, batch 16: 3 steps per epoch; 3 warm-up epochs, 6 candidates of 1 epoch each.
  const points: Array<[string, string]> = [
    ['mid-epoch (warm-up epoch 2, step 2)', 'step:warmup@5'],
    ['mid-candidate (candidate 3 training)', 'step:search@8'],
    ['during a checkpoint write (inside its transaction)', 'checkpoint@5'],
    ['during an export (JSONL written, not yet renamed)', 'export@4'],
    ['between estimators (warm-up done and checkpointed)', 'estim-end:warmup'],
  ];
  for (const [what, point] of points) {
    it(what, async () => {
      const name = `kill-${point.replace(/[^\w]+/g, '-')}`;
      const killed = await run(name, [], { MODNAS_TEST_KILL_AT: point });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(integrity(name)).toBe('ok');
      expect(await runStatuses(name)).toEqual(['r1 killed']);
      const resumed = await run(name, ['--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(integrity(name)).toBe('ok');
      expect(storeStatuses(name)).toEqual(['r1 done']);
      expectSameAsReference(name);
      expect(summary(name).run).toBe('r1');
    });
  }
});

describe('the same with the journal store (the minimal install\'s default)', () => {
  const journal = ['-o', 'store.type=JournalStore'];
  for (const [what, point] of [
    ['mid-candidate', 'step:search@8'],
    ['during a checkpoint write (payload written, not yet in the journal)', 'checkpoint@5'],
  ]) {
    it(what, async () => {
      const name = `journal-${point.replace(/[^\w]+/g, '-')}`;
      const killed = await run(name, journal, { MODNAS_TEST_KILL_AT: point });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(existsSync(join(out, name, 'modnas.db')), 'the run used the journal').toBe(false);
      expect(integrity(name)).toBe('ok');
      expect(await runStatuses(name)).toEqual(['r1 killed']);
      const resumed = await run(name, [...journal, '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(integrity(name)).toBe('ok');
      expect(storeStatuses(name)).toEqual(['r1 done']);
      expectSameAsReference(name);
    });
  }
});

describe('the CLI end to end', () => {
  it('a supernet search killed mid-epoch resumes from its epoch checkpoint to the same epochs, arch params and best arch', async () => {
    const sn = join(root, 'packages', 'cli', 'src', 'fixtures', 'fault-supernet.yaml');
    const snRun = (name: string, env: Record<string, string> = {}, extra: string[] = []): Promise<Result> => modnas(['run', sn, '--output-dir', out, '--name', name, '-q', ...extra], env);
    expect((await snRun('sn-ref')).code).toBe(0);
    // 3 steps per epoch: step 8 is in search epoch 3, after the checkpoint of epoch 2
    const killed = await snRun('sn', { MODNAS_TEST_KILL_AT: 'step:search@8' });
    expect(killed.signal).toBe('SIGKILL');
    const r = await snRun('sn', {}, ['--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'sn', 'logs', 'run.log'), 'utf8')).toMatch(/resuming run r1 from checkpoint \d+ \(epoch boundary of estim search/);
    const got = epochs('sn');
    const ref = epochs('sn-ref');
    expect(got.map((e) => [e.estim, e.epoch])).toEqual(ref.map((e) => [e.estim, e.epoch]));
    got.forEach((e, i) => expect(e.train_loss).toBeCloseTo(ref[i].train_loss, 4));
    expect(summary('sn').estims.search.best?.arch).toEqual(summary('sn-ref').estims.search.best?.arch);
    expect(summary('sn').estims.search.metrics.acc).toBeCloseTo(summary('sn-ref').estims.search.metrics.acc, 5);
    expect(integrity('sn')).toBe('ok');
  });

  it('a tabular search killed inside a checkpoint resumes to the identical trial list and result', async () => {
    const tab = join(root, 'packages', 'cli', 'src', 'fixtures', 'bench-tabular.yaml');
    const tabRun = (name: string, env: Record<string, string> = {}, extra: string[] = []): Promise<Result> =>
      modnas(['run', tab, '--output-dir', out, '--name', name, '-q', '-o', 'checkpoint.candidates=5', '-o', 'estim.search.time_budget=20000', ...extra], env);
    const rows = (name: string): unknown[] => readFileSync(join(out, name, 'logs', 'trials.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect((await tabRun('tab-ref')).code).toBe(0);
    const killed = await tabRun('tab', { MODNAS_TEST_KILL_AT: 'checkpoint@4' });
    expect(killed.signal).toBe('SIGKILL');
    const r = await tabRun('tab', {}, ['--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(rows('tab').length).toBeGreaterThan(20);
    expect(rows('tab')).toEqual(rows('tab-ref'));
    expect(summary('tab').estims.search.best).toEqual(summary('tab-ref').estims.search.best);
    expect(summary('tab').estims.search.metrics).toEqual(summary('tab-ref').estims.search.metrics);
    expect(integrity('tab')).toBe('ok');
  });

  it('modnas run --name X, kill -9 from outside halfway, modnas run --name X --resume: the same best arch and number of trials', async () => {
    const name = 'halfway';
    const child = spawn(process.execPath, [bin, 'run', config, '--output-dir', out, '--name', name, '-q'], { cwd: root, env: ENV, stdio: 'ignore' });
    lowPriority(child);
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, sig) => res(sig)));
    // kill once the search has recorded 3 of its 6 candidates
    for (let i = 0; i < 6000 && trials(name).length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(trials(name).length).toBeGreaterThanOrEqual(3);
    expect(trials(name).length).toBeLessThan(6);
    expect(await runStatuses(name)).toEqual(['r1 killed']);
    const r = await run(name, ['--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(trials(name)).toHaveLength(trials('ref').length);
    expect(summary(name).estims.search.best?.arch).toEqual(summary('ref').estims.search.best?.arch);
    expectSameAsReference(name);
  });

  it('modnas resume <folder> continues the run; a changed config is refused naming the keys, --force accepts', async () => {
    const name = 'changed';
    expect((await run(name, [], { MODNAS_TEST_KILL_AT: 'estim-end:warmup' })).signal).toBe('SIGKILL');
    const refused = await run(name, ['--resume', '-o', 'estim.search.epochs=5', '-o', 'seed=4']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('MODNAS_E_RESUME_CONFIG_CHANGED');
    expect(refused.stderr).toContain('estim.search.epochs, seed');
    expect(refused.stderr).toContain('--force');
    const r = await modnas(['resume', join(out, name), '-q']);
    expect(r.code, r.stderr).toBe(0);
    expectSameAsReference(name);
    const forced = await modnas(['run', config, '--output-dir', out, '--name', 'forced', '-q', '-o', 'estim.search.epochs=2'], { MODNAS_TEST_KILL_AT: 'estim-end:warmup' });
    expect(forced.signal).toBe('SIGKILL');
    const f = await run('forced', ['--resume', '--force', '-o', 'estim.search.epochs=3']);
    expect(f.code, f.stderr).toBe(0);
    expect(trials('forced')).toHaveLength(3);
  });

  it('a rerun without --resume starts a new run id; the exports hold that run only, tagged with its id', async () => {
    const name = 'rerun';
    expect((await run(name)).code).toBe(0);
    expect((await run(name)).code).toBe(0);
    expect(await runStatuses(name)).toEqual(['r1 done', 'r2 done']);
    const t = trials(name);
    expect(t.map((x) => x.run)).toEqual(Array(6).fill('r2'));
    expect(t.map((x) => x.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(summary(name).run).toBe('r2');
    const s = store(name);
    expect(s.records('candidates').map((r) => r.run)).toEqual([...Array(6).fill('r1'), ...Array(6).fill('r2')]);
    s.close();
  });

  it('a second process on a running experiment is refused with the pid of the first; --wait waits for it', async () => {
    const name = 'concurrent';
    // a long first run (2000 warm-up epochs; SIGTERM ends it): it is surely running while the others start
    const first = spawn(process.execPath, [bin, 'run', config, '--output-dir', out, '--name', name, '-q', '-o', 'estim.warmup.epochs=2000'], { cwd: root, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    lowPriority(first);
    let firstErr = '';
    first.stderr?.on('data', (d: Buffer) => (firstErr += d.toString()));
    // the exit code, or the signal that ended the process (a crash), for the message
    const firstCode = new Promise<number | string>((res) => first.on('exit', (c, sig) => res(c ?? `signal ${sig}`)));
    const metricsFile = join(out, name, 'logs', 'metrics.jsonl');
    for (let i = 0; i < 12000 && !existsSync(metricsFile); i++) await new Promise((r) => setTimeout(r, 5));
    const second = await run(name);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('MODNAS_E_STORE_BUSY');
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).toContain('--wait');
    // a waiting one: it says so, then runs once the first has stopped
    const waiter = spawn(process.execPath, [bin, 'run', config, '--output-dir', out, '--name', name, '--wait'], { cwd: root, env: ENV });
    lowPriority(waiter);
    let waiterErr = '';
    waiter.stderr?.on('data', (d: Buffer) => (waiterErr += d.toString()));
    const waiterCode = new Promise<number | null>((res) => waiter.on('exit', (c) => res(c)));
    for (let i = 0; i < 12000 && !waiterErr.includes('waiting for run r1'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(waiterErr).toContain(`waiting for run r1 (pid ${first.pid})`);
    first.kill('SIGTERM');
    expect(await firstCode, firstErr.slice(-3000)).toBe(143);
    expect(await waiterCode, waiterErr).toBe(0);
    expect(await runStatuses(name)).toEqual(['r1 interrupted', 'r2 done']);
    expect(trials(name).map((t) => t.run)).toEqual(Array(6).fill('r2'));
    expect(integrity(name)).toBe('ok');
  });

  it('SIGTERM stops the run like Ctrl-C: exit 143, status interrupted, and --resume finishes it as if never stopped', async () => {
    const name = 'sigterm';
    const child = spawn(process.execPath, [bin, 'run', config, '--output-dir', out, '--name', name, '-q'], { cwd: root, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    lowPriority(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    for (let i = 0; i < 6000 && trials(name).length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
    expect(await code).toBe(143);
    expect(stderr).toContain('SIGTERM');
    expect(stderr).toContain('--resume');
    expect(await runStatuses(name)).toEqual(['r1 interrupted']);
    expect(summary(name).aborted).toBe(true);
    const r = await run(name, ['--resume']);
    expect(r.code, r.stderr).toBe(0);
    expectSameAsReference(name);
  });

  it.skipIf(!existsSync('/dev/full'))('a full disk is MODNAS_E_IO_DISK_FULL naming the file and the fix, and loses nothing (/dev/full is needed)', async () => {
    const name = 'diskfull';
    mkdirSync(join(out, name, 'logs'), { recursive: true });
    // every write of the run log fails with ENOSPC
    symlinkSync('/dev/full', join(out, name, 'logs', 'run.log'));
    const r = await run(name);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MODNAS_E_IO_DISK_FULL');
    expect(r.stderr).toContain(join(out, name, 'logs', 'run.log'));
    expect(r.stderr).toContain('--resume');
    expect(r.stderr).not.toContain('without a code');
    rmSync(join(out, name, 'logs', 'run.log'));
    const again = await run(name, ['--resume']);
    expect(again.code, again.stderr).toBe(0);
    expect(integrity(name)).toBe('ok');
    expectSameAsReference(name);
  });

  it('Ctrl-C stops modnas bench --runs 20000 with the summary of the runs so far (exit 130)', async () => {
    const bench = join(root, 'packages', 'cli', 'src', 'fixtures', 'bench-tabular.yaml');
    const child = spawn(process.execPath, [bin, 'bench', bench, '--runs', '20000', '-o', `output_dir=${out}`], { cwd: root, env: ENV });
    lowPriority(child);
    let stdout = '';
    let lines = 0;
    let sent = false;
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => {
      lines += d.toString().split('\n').filter((l) => l.startsWith('run ')).length;
      // once: a second Ctrl-C quits at once, by design
      if (lines >= 20 && !sent) sent = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).toBe(130);
    const m = /over (\d+) runs \(interrupted after \d+ of 20000\)/.exec(stdout);
    expect(m, stdout).not.toBeNull();
    expect(Number(m?.[1])).toBeLessThan(20000);
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(20);
  });

  it('modnas report | head: a closed stdout (EPIPE) ends the command quietly', async () => {
    const child = spawn(process.execPath, [bin, 'report', join(out, 'ref')], { cwd: root, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    lowPriority(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    // like a head that has read enough: the reading end is closed before the report is written
    child.stdout?.destroy();
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(stderr).not.toContain('Unhandled');
    expect(code).toBe(0);
  });

  it('an output folder that cannot be made is a coded MODNAS_E_IO error with the fix, exit 2 when it is not writable', async () => {
    // below a file: no user (root neither) can make it
    const r = await modnas(['run', config, '--output-dir', '/dev/null/exp', '-q']);
    expect(r.stderr).toContain('MODNAS_E_IO_UNWRITABLE');
    expect(r.stderr).toContain('/dev/null/exp');
    expect(r.stderr).toContain('--output-dir');
    expect(r.code).toBe(2);
  });
});
