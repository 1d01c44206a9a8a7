// The executor service through the real `modnas run`: WorkerThreadsExecutor (2 threads, each
// rebuilding the experiment), an executor from a package outside the workspace chosen by config
// alone, a killed run with worker threads resumed from its checkpoint, and a configuration that a
// remote executor cannot run refused with its code.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@modnas/store-sqlite';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const config = join(root, 'packages', 'cli', 'src', 'fixtures', 'executor-search.yaml');
const outside = join(root, 'packages', 'cli', 'src', 'fixtures', 'executor-plugin');
const out = mkdtempSync(join(tmpdir(), 'modnas-executors-'));

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function run(name: string, extra: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [bin, 'run', config, '--output-dir', out, '--name', name, '-q', ...extra], { cwd: root, env: { ...process.env, MODNAS_BACKEND: 'wasm', ...env } });
    try {
      if (c.pid) setPriority(c.pid, 10);
    } catch {
      // not permitted: normal priority
    }
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code, signal) => res({ code, signal, stderr }));
  });
}

interface Row {
  index: number;
  status: string;
  score: number | null;
  worker?: string;
  metrics?: Record<string, number>;
}

function stored(name: string): { runs: string[]; rows: Row[] } {
  // read-write, as the fault suite does: after a kill -9 the WAL may need recovering, which a read-only handle cannot do
  const s = new SqliteStore(join(out, name, 'modnas.db'), name);
  try {
    return { runs: s.runs().map((r) => `${r.id} ${r.status}`), rows: s.records('candidates', 'r1').map((r) => r.record as unknown as Row) };
  } finally {
    s.close();
  }
}

const indices = (rows: Row[]): number[] => rows.map((r) => r.index).sort((a, b) => a - b);
const THREADS = ['-o', 'executor={type: WorkerThreadsExecutor, workers: 2}'];

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('executors chosen by config', () => {
  it('WorkerThreadsExecutor: two threads, each with its own engine, evaluate the candidates; the run stores each once', async () => {
    const r = await run('threads', THREADS);
    expect(r.code, r.stderr).toBe(0);
    const { rows } = stored('threads');
    expect(indices(rows)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows.every((x) => x.status === 'done' && typeof x.score === 'number')).toBe(true);
    expect(new Set(rows.map((x) => x.worker?.split(' (')[0]))).toEqual(new Set(['thread 1', 'thread 2']));
    const log = readFileSync(join(out, 'threads', 'logs', 'run.log'), 'utf8');
    // kernel_threads: auto shares the cores among the threads (OMP_NUM_THREADS, when set, rules instead)
    const k = Math.max(1, Math.floor(availableParallelism() / 2));
    const each = process.env.OMP_NUM_THREADS ? '' : `, ${k} kernel thread${k > 1 ? 's' : ''} each`;
    expect(log).toContain(`executor: 2 worker threads${each}\n`);
    // each thread built the experiment (and loaded the data) once, for all its candidates
    expect(log.match(/thread \d: worker thread \d .*built experiment threads /g)).toHaveLength(2);
    // where the engine's native kernels run (CI: MODNAS_REQUIRE_NATIVE), each thread's engine runs on its share
    const native = /tensor backend: wasm \(@modnas\/[\w-]+: own kernels/.test(log);
    if (process.env.MODNAS_REQUIRE_NATIVE === '1') expect(native, log).toBe(true);
    if (native && each) expect(log.match(new RegExp(`thread \\d: tensor backend: wasm \\(@modnas/[\\w-]+: own kernels \\([^,]+, ${k} threads?\\)[),]`, 'g'))).toHaveLength(2);
  });

  it('in-process and in worker threads, every candidate gets the same score: its streams depend on its index, not on where it ran', async () => {
    // the same kernel thread count as the in-process run, so the arithmetic is the same too
    const k = process.env.OMP_NUM_THREADS ? Number(process.env.OMP_NUM_THREADS) : availableParallelism();
    const [a, b] = await Promise.all([run('same-in', []), run('same-threads', ['-o', `executor={type: WorkerThreadsExecutor, workers: 2, kernel_threads: ${k}}`])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // the loss as well as the score: accuracy on 48 images hides small differences
    const byIndex = (rows: Row[]): Array<[number, number | null, number | undefined]> => rows.map((r): [number, number | null, number | undefined] => [r.index, r.score, r.metrics?.loss]).sort((x, y) => x[0] - y[0]);
    const inProcess = byIndex(stored('same-in').rows);
    expect(inProcess).toHaveLength(8);
    expect(byIndex(stored('same-threads').rows)).toEqual(inProcess);
  });

  it('an executor from a package outside the workspace replaces the default by config alone', async () => {
    const r = await run('outside', ['-o', 'executor={type: TaggingExecutor, tag: outside}'], { MODNAS_PLUGIN_PATH: outside });
    expect(r.code, r.stderr).toBe(0);
    const { rows } = stored('outside');
    expect(rows.map((x) => x.worker)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `outside ${i}`));
  });

  it('a run with worker threads killed inside a checkpoint resumes to every candidate exactly once', async () => {
    // Checkpoints: 1 when the warm-up ends, then per round of 2 candidates one or two (a mid-round one
    // only when the round's first candidate finishes first). The 3rd therefore comes after 2 to 4 of
    // the 8 candidates, whichever thread finishes first.
    const killed = await run('resume', THREADS, { MODNAS_TEST_KILL_AT: 'checkpoint@3' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const before = stored('resume').rows.length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThanOrEqual(4);
    const r = await run('resume', [...THREADS, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    const { runs, rows } = stored('resume');
    expect(runs).toEqual(['r1 done']);
    expect(indices(rows)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a remote executor refuses a search whose candidates share state (early_stop), naming the key', async () => {
    const r = await run('asha', [...THREADS, '-o', 'estim.search.early_stop={min_epochs: 1}', '-o', 'estim.search.train_epochs=2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MODNAS_E_EXECUTOR_UNSUPPORTED');
    expect(r.stderr).toContain('early_stop');
  });
});
