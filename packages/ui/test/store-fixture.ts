/**
 * Experiment stores written directly (no search runs), for the dashboard's tests: a finished
 * gradient search with epochs, α, Slots, trials with FLOPs/params and an arch file; a running
 * random search the test keeps appending to; three repeated runs of one optimizer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { JournalStore } from '@modnas/store-journal';
import { SqliteStore } from '@modnas/store-sqlite';
import type { ExperimentStore } from '@modnas/services';

export interface FixtureRun {
  dir: string;
  id: string;
  store: ExperimentStore;
}

/** Which store plugin writes the fixture (the dashboard finds either through its store plugin). */
export type FixtureStoreKind = 'sqlite' | 'journal';

function openExperiment(root: string, dir: string, kind: FixtureStoreKind): ExperimentStore {
  mkdirSync(join(root, dir), { recursive: true });
  return kind === 'sqlite' ? new SqliteStore(join(root, dir, 'modnas.db'), dir) : new JournalStore(join(root, dir), dir);
}

function addRun(store: ExperimentStore, dir: string, id: string, optim: string, status: 'done' | 'running', startMs: number, endMs?: number): void {
  store.insertRun({
    id,
    experiment: dir,
    configHash: `hash-${id}`,
    config: { name: dir, optim: { type: optim } },
    status,
    start: new Date(startMs).toISOString(),
    ...(endMs === undefined ? {} : { end: new Date(endMs).toISOString() }),
    heartbeat: new Date(endMs ?? Date.now()).toISOString(),
    pid: process.pid,
    host: hostname(),
    resumes: 0,
  });
  store.activate(id);
}

/** A deterministic score sequence (no randomness: the tests compare against the store anyway). */
const scoreAt = (i: number, seed: number): number => Math.round((0.5 + 0.4 * Math.abs(Math.sin(i * 1.7 + seed))) * 1e4) / 1e4;

export function writeFixture(root: string, kind: FixtureStoreKind): { done: FixtureRun; running: FixtureRun; repeats: FixtureRun[] } {
  const t0 = Date.parse('2026-01-01T10:00:00Z');
  // 1. a finished gradient search
  const a = openExperiment(root, 'darts', kind);
  addRun(a, 'darts', 'r1', 'DARTSOptim', 'done', t0, t0 + 95_000);
  a.append('run_info', { backend: 'native', numParams: 1234, spaceSize: '20', resumed: false, pid: 1, time: new Date(t0).toISOString() });
  a.append('slots', {
    estim: 'search',
    slots: [
      { path: 'stem.conv', chnIn: 1, chnOut: 8, stride: 1 },
      { path: 'cells.0.op', chnIn: 8, chnOut: 16, stride: 2, param: 't_0', candidates: ['MB3E3', 'MB5E6', 'NIL'] },
      { path: 'cells.1.op', chnIn: 16, chnOut: 16, stride: 1, param: 't_1', candidates: ['MB3E3', 'MB5E6', 'NIL'] },
    ],
  });
  const softmax = (xs: number[]): number[] => {
    const e = xs.map((x) => Math.exp(x));
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((x) => Math.round((x / s) * 1e6) / 1e6);
  };
  for (let epoch = 0; epoch < 4; epoch++) {
    a.append('metrics', { estim: 'search', epoch, epochs: 4, train_loss: 2 - epoch * 0.3, loss: 2.2 - epoch * 0.35, acc: 0.3 + epoch * 0.15, lr: 0.01, time: new Date(t0 + (epoch + 1) * 20_000).toISOString() });
    a.append('alpha', { estim: 'search', epoch, ops: [{ param: 't_0', candidates: ['MB3E3', 'MB5E6', 'NIL'], probs: softmax([0, epoch * 0.6, -epoch * 0.2]) }, { param: 't_1', candidates: ['MB3E3', 'MB5E6', 'NIL'], probs: softmax([epoch * 0.4, 0, epoch * 0.1]) }] });
  }
  const cands = ['MB3E3', 'MB5E6', 'NIL'];
  for (let i = 0; i < 12; i++) {
    const arch = { t_0: cands[i % 3], t_1: cands[(i * 2) % 3] };
    const flops = 1e6 * (1 + (i % 3) + ((i * 2) % 3));
    a.append('candidates', { estim: 'search', index: i, arch, status: 'done', score: scoreAt(i, 0), metrics: { acc: scoreAt(i, 0), flops, params: 1000 + 100 * i }, seconds: 0.5, time: new Date(t0 + 80_000 + i * 1000).toISOString() });
  }
  mkdirSync(join(root, 'darts', 'outputs'), { recursive: true });
  writeFileSync(join(root, 'darts', 'outputs', 'arch_search_best.yaml'), '- conv3\n- MB5E6\n- MB3E3\n');

  // 2. a running random search (this process is its pid, so it shows as running)
  const b = openExperiment(root, 'random', kind);
  addRun(b, 'random', 'r1', 'RandomSearchOptim', 'running', Date.now() - 30_000);
  b.append('run_info', { backend: 'wasm', time: new Date().toISOString() });
  for (let i = 0; i < 3; i++) b.append('candidates', { estim: 'search', index: i, arch: { t_0: cands[i] }, status: 'done', score: scoreAt(i, 3), metrics: { acc: scoreAt(i, 3) }, time: new Date().toISOString() });

  // 3. three seeds of one search, for the comparison's mean ± std
  const c = openExperiment(root, join('bench', 'evo'), kind);
  const repeats: FixtureRun[] = [];
  for (let r = 1; r <= 3; r++) {
    addRun(c, 'bench/evo', `r${r}`, 'EvolutionOptim', 'done', t0 + r * 100_000, t0 + r * 100_000 + 10_000);
    for (let i = 0; i < 6 + r; i++) c.append('candidates', { estim: 'search', index: i, arch: { t_0: cands[i % 3] }, status: 'done', score: scoreAt(i, r * 2), metrics: { acc: scoreAt(i, r * 2) } });
    repeats.push({ dir: 'bench/evo', id: `r${r}`, store: c });
  }
  return { done: { dir: 'darts', id: 'r1', store: a }, running: { dir: 'random', id: 'r1', store: b }, repeats };
}

/** Markup that runs script if any of it is ever parsed as HTML: each piece sets window.__pwned. */
export const HOSTILE = {
  script: `</script><script>window.__pwned='script'</script>`,
  img: `<img src=x onerror="window.__pwned='img'">`,
  title: `</title><script>window.__pwned='title'</script>`,
  /** A file name may hold all but '/'. */
  file: `<img src=x onerror=window.__pwned=7>`,
};

/**
 * An experiment whose every string is markup: the folder's and the experiment's name, the run id,
 * the backend, optimizer, estimator, metric names, trial archs and statuses, Slot paths, mixed-op
 * parameters and candidates, and an arch file's name and contents. Journal store (a file anyone
 * could hand over). Returns the folder and the run id.
 */
export function writeHostileFixture(root: string): { dir: string; folder: string; run: string; experiment: string } {
  const { script, img, title, file } = HOSTILE;
  const dir = `evil${file}`;
  const folder = join(root, dir);
  const experiment = `${title}${img}`;
  const run = `r1"'>${script}${img}`;
  mkdirSync(folder, { recursive: true });
  const s = new JournalStore(folder, experiment);
  const t0 = Date.parse('2026-01-01T10:00:00Z');
  s.insertRun({ id: run, experiment, configHash: script, config: { name: experiment, optim: { type: `${img}Optim` } }, status: 'done', start: new Date(t0).toISOString(), end: new Date(t0 + 60_000).toISOString(), heartbeat: new Date(t0 + 60_000).toISOString(), pid: process.pid, host: hostname(), resumes: 0 });
  s.activate(run);
  s.append('run_info', { backend: `${script}${img}`, time: new Date(t0).toISOString() });
  s.append('slots', { estim: script, slots: [{ path: `${img}.op`, chnIn: 1, chnOut: 8, stride: 1, param: `${script}p`, candidates: [img, script] }] });
  for (let epoch = 0; epoch < 2; epoch++) {
    s.append('metrics', { estim: script, epoch, epochs: 2, [`${img}loss`]: 1 - epoch * 0.1, [`${script}acc`]: 0.5 + epoch * 0.1, time: new Date(t0 + epoch * 1000).toISOString() });
    s.append('alpha', { estim: script, epoch, ops: [{ param: `${script}p`, candidates: [img, script], probs: [0.4, 0.6] }] });
  }
  for (let i = 0; i < 3; i++) {
    s.append('candidates', { estim: script, index: i, arch: { [`${script}p`]: img, [img]: script }, status: `${img}${i}`, score: 0.5 + i / 10, metrics: { [`${img}flops`]: 1e6 * (i + 1), acc: 0.5 + i / 10 } });
  }
  s.close();
  mkdirSync(join(folder, 'outputs'));
  writeFileSync(join(folder, 'outputs', `arch_${file}_best.yaml`), `- ${JSON.stringify(script)}\n- ${JSON.stringify(img)}\n`);
  return { dir, folder, run, experiment };
}
