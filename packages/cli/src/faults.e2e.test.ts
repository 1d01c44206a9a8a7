// The fault suite (issue 11): the real `modnas` command on a small training search (warm-up
// epochs, then a random search that trains each candidate), killed with SIGKILL at five points,
// resumed, and compared with an uninterrupted run; the store passes PRAGMA integrity_check after
// each. Also: kill -9 from outside halfway, a full disk, two processes on one experiment, SIGTERM,
// a rerun that starts a new run id; a disk that fills at every write site of both stores (simulated,
// and a real small tmpfs where mount namespaces are allowed), resumed to the uninterrupted result.
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JournalStore } from '@modnas/store-journal';
import { SqliteStore } from '@modnas/store-sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentStore } from '@modnas/services';
import { readEventFile, scalarsByTag } from '../../kit-io/test/read-tfevents.js';

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

/** What the store keeps of run r1: its metrics and candidates records, in order, as [stream, estim, epoch or index, arch, score]. */
function stored(name: string): unknown[][] {
  const s = store(name);
  try {
    return s.records(undefined, 'r1').filter((r) => r.stream === 'metrics' || r.stream === 'candidates').map((r) => [r.stream, r.record.estim, r.record.epoch ?? r.record.index, r.record.arch, r.record.score]);
  } finally {
    s.close();
  }
}

/** Every export is whole: each JSONL line parses, summary.json parses, no temporary file is left. */
function expectWholeExports(name: string): void {
  for (const sub of ['logs', 'outputs', 'checkpoints']) {
    const dir = join(out, name, sub);
    for (const f of existsSync(dir) ? readdirSync(dir) : []) {
      expect(f, `${sub}/${f}`).not.toMatch(/\.tmp$/);
      if (!f.endsWith('.jsonl')) continue;
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text === '' || text.endsWith('\n'), `${sub}/${f} ends with a whole line`).toBe(true);
      for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line), `${sub}/${f}: ${line.slice(0, 80)}`).not.toThrow();
    }
  }
  const summaryFile = join(out, name, 'outputs', 'summary.json');
  if (existsSync(summaryFile)) expect(() => JSON.parse(readFileSync(summaryFile, 'utf8'))).not.toThrow();
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
  expectSameEvents(name);
}

/** The run's TensorBoard folder (writers/r1, rewritten from the store on resume): one file, each tag's steps as the reference's, none twice, values within float tolerance. */
function expectSameEvents(name: string): void {
  const read = (n: string): Map<string, Array<[number, number]>> => {
    const dir = join(out, n, 'writers', 'r1');
    const files = readdirSync(dir).filter((f) => f.includes('tfevents'));
    expect(files, `${n}/writers/r1`).toHaveLength(1);
    return scalarsByTag(readEventFile(join(dir, files[0])));
  };
  const ref = read('ref');
  const got = read(name);
  expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
  for (const [tag, points] of ref) {
    expect(got.get(tag)!.map(([step]) => step), tag).toEqual(points.map(([step]) => step));
    got.get(tag)!.forEach(([, v], i) => expect(v, tag).toBeCloseTo(points[i][1], 4));
  }
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

describe('a full disk at every write site, both stores: exit 1 with MODNAS_E_IO_DISK_FULL, nothing stored lost, --resume gives the uninterrupted result', () => {
  // MODNAS_TEST_DISK_FULL_AT=<site>@<n> (kit-io fault-points.ts): the n-th write at the site gets half
  // its bytes (a short write), then every write of the process fails with ENOSPC / SQLITE_FULL, as on a
  // full disk; the resume without it is "space freed". The fixture's run makes 25 (SQLite) / 35 (journal)
  // store writes, 10 checkpoints, 19 log lines, 9 live JSONL appends, 2 + 3 rewrites of candidates and
  // metrics JSONL, 3 summaries, 1 config.yaml, 2 arch files and 10 event-file appends (the file's
  // header, 3 epochs, 6 candidates; a heartbeat, every 5 s, adds store writes).
  const sites: Array<{ what: string; at: string; file: (store: string) => string; stores?: string[] }> = [
    { what: 'a store write mid-search', at: 'store@18', file: (st) => (st === 'JournalStore' ? 'journal.jsonl' : 'modnas.db') },
    { what: "the run's last store write (its status)", at: 'store@35', file: () => 'journal.jsonl', stores: ['JournalStore'] },
    { what: "the run's last store write (its status)", at: 'store@25', file: () => 'modnas.db', stores: ['SqliteStore'] },
    { what: 'the first candidate checkpoint', at: 'checkpoint@5', file: (st) => (st === 'JournalStore' ? 'checkpoints/r1-5.ckpt' : 'modnas.db') },
    { what: "the journal's lock file", at: 'lock@20', file: () => 'journal.jsonl.lock', stores: ['JournalStore'] },
    { what: 'a line of logs/run.log', at: 'log@10', file: () => 'logs/run.log' },
    { what: 'a live append to logs/candidates.jsonl', at: 'append:candidates.jsonl@3', file: () => 'logs/candidates.jsonl' },
    { what: "a warm-up epoch appended to the run's TensorBoard event file", at: 'writer@3', file: () => 'writers/r1/events.out.tfevents.' },
    { what: 'outputs/config.yaml', at: 'export:config.yaml', file: () => 'outputs/config.yaml' },
    { what: 'the rewrite of logs/metrics.jsonl after the warm-up', at: 'export:metrics.jsonl@1', file: () => 'logs/metrics.jsonl' },
    { what: 'the best architecture file', at: 'export:arch_search_best.yaml', file: () => 'outputs/arch_search_best.yaml' },
    { what: 'the final rewrite of logs/candidates.jsonl (a disk-full export exits 1, never done)', at: 'export:candidates.jsonl@2', file: () => 'logs/candidates.jsonl' },
    { what: 'the final outputs/summary.json (a disk-full export exits 1, never done)', at: 'export:summary.json@3', file: () => 'outputs/summary.json' },
  ];
  for (const storeType of ['SqliteStore', 'JournalStore']) {
    for (const site of sites.filter((x) => !x.stores || x.stores.includes(storeType))) {
      it(`${storeType}: ${site.what} (${site.at})`, async () => {
        const name = `full-${storeType}-${site.at.replace(/[^\w]+/g, '-')}`;
        const opts = ['-o', `store.type=${storeType}`];
        const full = await run(name, opts, { MODNAS_TEST_DISK_FULL_AT: site.at });
        expect(full.code, full.stderr).toBe(1);
        expect(full.stderr).toContain('MODNAS_E_IO_DISK_FULL');
        expect(full.stderr).toContain(join(out, name, site.file(storeType)));
        expect(full.stderr).toContain('--resume');
        expect(full.stderr).not.toContain('without a code');
        // never done; what the store kept is the uninterrupted run's beginning, and every export is whole
        expect(await runStatuses(name)).toEqual([expect.stringMatching(/^r1 (failed|killed)$/)]);
        const kept = stored(name);
        expect(kept).toEqual(stored('ref').slice(0, kept.length));
        expect(integrity(name)).toBe('ok');
        expectWholeExports(name);
        const s = store(name);
        const newest = s.latestCheckpoint('r1');
        s.close();
        // space freed
        const resumed = await run(name, [...opts, '--resume']);
        expect(resumed.code, resumed.stderr).toBe(0);
        const log = readFileSync(join(out, name, 'logs', 'run.log'), 'utf8');
        // the checkpoint written last before the disk filled is the one resumed from
        if (newest) expect(log).toContain(`resuming run r1 from checkpoint ${newest.seq} `);
        expect(log).not.toContain('does not verify');
        expect(storeStatuses(name)).toEqual(['r1 done']);
        expect(integrity(name)).toBe('ok');
        expectSameAsReference(name);
        expectWholeExports(name);
        expect(stored(name)).toEqual(stored('ref'));
      });
    }
  }
});

describe('a checkpoint that does not verify on resume is skipped with a warning, and the one before used', () => {
  for (const storeType of ['SqliteStore', 'JournalStore']) {
    it(`${storeType}: the newest payload cut short behind the store's back`, async () => {
      const name = `damaged-${storeType}`;
      const opts = ['-o', `store.type=${storeType}`];
      // killed in candidate 3's training: the checkpoints of candidates 1 and 2 are kept
      expect((await run(name, opts, { MODNAS_TEST_KILL_AT: 'step:search@8' })).signal).toBe('SIGKILL');
      const s = store(name);
      const seq = s.latestCheckpoint('r1')?.seq ?? 0;
      s.close();
      expect(seq).toBeGreaterThan(4);
      if (storeType === 'JournalStore') {
        const f = join(out, name, 'checkpoints', `r1-${seq}.ckpt`);
        truncateSync(f, Math.floor(readFileSync(f).length / 3));
      } else {
        const sq = store(name);
        (sq as unknown as { db: { prepare(q: string): { run(...a: unknown[]): unknown } } }).db.prepare('UPDATE checkpoints SET data = substr(data, 1, length(data) / 3) WHERE run = ? AND seq = ?').run('r1', seq);
        sq.close();
      }
      const resumed = await run(name, [...opts, '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(new RegExp(`warning: checkpoint ${seq} of run r1 does not verify and is skipped: .*of [\\d,]+ bytes.*; resuming from checkpoint ${seq - 1} `));
      expect(readFileSync(join(out, name, 'logs', 'run.log'), 'utf8')).toContain(`resuming run r1 from checkpoint ${seq - 1} `);
      expect(storeStatuses(name)).toEqual(['r1 done']);
      expectSameAsReference(name);
    });
  }
});

/** Mount namespaces (root, or unprivileged user namespaces) for a real small tmpfs. */
const canMount = spawnSync('unshare', ['-rm', 'true']).status === 0;

describe.skipIf(!canMount)('a real full disk: a small tmpfs (in a mount namespace) fills mid-run; remounted larger, --resume gives the uninterrupted result (needs root or unprivileged user namespaces)', () => {
  // Sizes at which the fixture's run fills the disk mid-run: the journal at its third checkpoint
  // payload (two kept, one being written, about 65 KB each), SQLite as its WAL grows.
  for (const [storeType, size] of [
    ['JournalStore', '200k'],
    ['SqliteStore', '600k'],
  ]) {
    it(`${storeType} on a ${size} tmpfs`, async () => {
      const name = `tmpfs-${storeType}`;
      const mnt = mkdtempSync(join(tmpdir(), 'modnas-tmpfs-'));
      const cli = (extra: string): string => `"${process.execPath}" "${bin}" run "${config}" --output-dir "${mnt}" --name ${name} -q -o store.type=${storeType} ${extra}`;
      // one namespace for the whole story: the tmpfs is gone when it ends, so the folder is copied out
      const script = [
        `mount -t tmpfs -o size=${size} tmpfs "${mnt}" || exit 9`,
        `${cli('')} 2> "${out}/${name}.full.err"; echo $? > "${out}/${name}.full.code"`,
        `cp -a "${mnt}/${name}" "${out}/${name}.full" || exit 9`,
        `mount -o remount,size=64m "${mnt}" || exit 9`,
        `${cli('--resume')} 2> "${out}/${name}.resume.err"; echo $? > "${out}/${name}.resume.code"`,
        `cp -a "${mnt}/${name}" "${out}/${name}"`,
      ].join('\n');
      const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
        const c = spawn('unshare', ['-rm', 'sh', '-c', script], { cwd: root, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
        lowPriority(c);
        let stderr = '';
        c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        c.on('exit', (code) => res({ code, stderr }));
      });
      expect(r.code, r.stderr).toBe(0);
      const read = (f: string): string => readFileSync(join(out, `${name}.${f}`), 'utf8');
      expect(read('full.code').trim(), read('full.err')).toBe('1');
      expect(read('full.err')).toContain('MODNAS_E_IO_DISK_FULL');
      expect(read('full.err')).toContain(join(mnt, name));
      expect(read('full.err')).not.toContain('without a code');
      // it filled mid-run: the store kept the uninterrupted run's beginning, not all of it
      const kept = stored(`${name}.full`);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(stored('ref').length);
      expect(kept).toEqual(stored('ref').slice(0, kept.length));
      expectWholeExports(`${name}.full`);
      expect(read('resume.code').trim(), read('resume.err')).toBe('0');
      // no checkpoint was recorded short: the one written last before the disk filled is resumed from
      expect(read('resume.err')).not.toContain('does not verify');
      expect(storeStatuses(name)).toEqual(['r1 done']);
      expect(integrity(name)).toBe('ok');
      expectSameAsReference(name);
      expect(stored(name)).toEqual(stored('ref'));
    });
  }
});

describe.skipIf(!canMount)('a read-only file system', () => {
  it('is MODNAS_E_IO_UNWRITABLE (exit 2) naming EROFS and --output-dir, not a failed write with "--resume"', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'modnas-ro-'));
    const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
      const c = spawn('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o ro,size=64k tmpfs "${mnt}" && exec "$@"`, 'sh', process.execPath, bin, 'run', config, '--output-dir', mnt, '-q'], { cwd: root, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
      lowPriority(c);
      let stderr = '';
      c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('exit', (code) => res({ code, stderr }));
    });
    expect(r.stderr).toContain('MODNAS_E_IO_UNWRITABLE');
    expect(r.stderr).toContain(`EROFS at ${mnt}`);
    expect(r.stderr).toContain('--output-dir');
    expect(r.stderr).not.toContain('--resume');
    expect(r.code).toBe(2);
  });
});
