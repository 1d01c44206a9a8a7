/**
 * Reading experiment stores for the dashboard: find the experiment folders (those with a store)
 * under a folder, open each store read-only (a second process reads while a run writes), and build
 * the runs table and the view of one run.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Registry } from '@modnas/core';
import { ModnasError, getRegistry } from '@modnas/core';
import { effectiveStatus, openExistingStore } from '@modnas/runtime';
import type { ExperimentStore, RunRecord, StoredRecord } from '@modnas/services';
import { discoverPlugins } from '@modnas/discovery';
import type { ArchFile, ExperimentEntry, RecordIn, RunEntry, RunState, RunView } from './view.js';
import { foldRecord } from './view.js';

/** How deep under the served folder experiment folders are looked for (exp/ -> exp/<name>/ -> exp/<group>/<name>/). */
const MAX_DEPTH = 3;
const ARCH_FILE = /^arch_(.+)_best\.ya?ml$/;
/** Folders an experiment keeps inside itself: never experiments of their own. */
const SKIP = new Set(['node_modules', 'logs', 'outputs', 'checkpoints']);

/** Candidate folders at or under `root` (relative to it, '' for root itself), sorted. */
function candidateDirs(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string, depth: number): void => {
    out.push(relative(root, dir).split(sep).join('/'));
    if (depth >= MAX_DEPTH) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      if (n.startsWith('.') || SKIP.has(n)) continue;
      const p = join(dir, n);
      try {
        if (statSync(p).isDirectory()) visit(p, depth + 1);
      } catch {
        // vanished or unreadable: not an experiment
      }
    }
  };
  visit(root, 0);
  return out;
}

/**
 * Read-only handles on the experiment stores under one folder, whichever installed store plugin
 * wrote each (SQLite modnas.db, journal.jsonl, ...: runtime's openExistingStore), opened once and
 * kept: each read sees the newest commits of a run that is writing.
 */
export class StoreSet {
  private readonly open = new Map<string, ExperimentStore>();

  private constructor(
    readonly root: string,
    private readonly registry: Registry,
  ) {}

  /** The stores under `root`; refuses a folder without any. `registry`: where store plugins are found (default: discovered from the current project). */
  static async open(root: string, registry?: Registry): Promise<StoreSet> {
    const abs = resolve(root);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) {
      throw new ModnasError('MODNAS_E_UI_FOLDER', `${abs} is not a folder`, { fix: 'pass the folder of an experiment (exp/<name>) or the folder holding experiments (exp/)' });
    }
    let reg = registry;
    if (!reg) {
      reg = getRegistry();
      discoverPlugins({ registry: reg });
    }
    const set = new StoreSet(abs, reg);
    await set.refresh();
    if (set.open.size === 0) {
      const stores = reg.list().filter((r) => r.kind === 'store').map((r) => r.id);
      throw new ModnasError('MODNAS_E_UI_NO_STORE', `no experiment store in ${abs} or the folders under it (${MAX_DEPTH} levels), for the store plugins installed (${stores.join(', ') || 'none'})`, {
        fix: 'run a search first ("modnas run <config.yaml>" writes its store into <output_dir>/<name>/), or pass the folder that holds it; a store written by a plugin not installed here needs that plugin (e.g. npm i @modnas/store-sqlite for modnas.db)',
      });
    }
    return set;
  }

  /** Look for experiment folders that appeared since the last look. */
  async refresh(): Promise<void> {
    for (const dir of candidateDirs(this.root)) {
      if (this.open.has(dir)) continue;
      const store = await openExistingStore(join(this.root, dir), this.registry);
      if (store) this.open.set(dir, store);
    }
  }

  dirs(): string[] {
    return [...this.open.keys()].sort();
  }

  /** The store of an experiment folder (relative to the root); unknown folders are refused (nothing outside the root is read). */
  store(dir: string): ExperimentStore {
    const s = this.open.get(dir);
    if (!s) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `no experiment folder "${dir}" under ${this.root}`, { fix: 'pick an experiment from the runs list' });
    return s;
  }

  close(): void {
    for (const s of this.open.values()) s.close();
    this.open.clear();
  }

  experiments(): ExperimentEntry[] {
    return this.dirs().map((dir) => {
      const store = this.store(dir);
      const runs = store.runs();
      return { dir, experiment: runs[0]?.experiment ?? (basename(join(this.root, dir)) || dir), runs: runs.map((r) => runEntry(dir, store, r)), archFiles: archFileNames(join(this.root, dir)) };
    });
  }

  runView(dir: string, runId: string): RunView {
    const store = this.store(dir);
    const runs = store.runs();
    const rec = runs.find((r) => r.id === runId);
    if (!rec) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `experiment "${dir}" has no run ${runId}`, { fix: `its runs: ${runs.map((r) => r.id).join(', ') || '(none)'}` });
    const view: RunView = { dir, run: { ...baseEntry(dir, rec), trials: 0, resumes: rec.resumes }, metrics: [], trials: [], alpha: [], slots: [], arch: [], lastId: 0 };
    for (const r of store.records(undefined, runId)) foldRecord(view, r);
    // outputs/ holds the newest run's files
    if (runs[runs.length - 1]?.id === runId) view.arch = readArchFiles(join(this.root, dir));
    return view;
  }

  /**
   * Records of a run after `afterId`, oldest first, and the run's status and duration now (for live
   * updates: the page folds the records itself, so trials and best score are not recounted here).
   */
  updates(dir: string, runId: string, afterId: number): { records: RecordIn[]; run: RunState } {
    const store = this.store(dir);
    const rec = store.runs().find((r) => r.id === runId);
    if (!rec) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `experiment "${dir}" has no run ${runId}`, { fix: 'pick a run from the runs list' });
    const records = store.lastRecordId() > afterId ? store.records(undefined, runId).filter((r: StoredRecord) => r.id > afterId) : [];
    const { status, seconds, end } = baseEntry(dir, rec);
    return { records: records.map((r) => ({ id: r.id, stream: r.stream, record: r.record })), run: { status, seconds, ...(end ? { end } : {}) } };
  }

  /** The text of an outputs/arch_*_best.yaml (nothing else is served from the folder). */
  archText(dir: string, name: string): string {
    if (!ARCH_FILE.test(name) || !this.dirs().includes(dir)) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `no file ${name} in ${dir}/outputs`, { fix: 'only outputs/arch_<estim>_best.yaml files are served' });
    const file = join(this.root, dir, 'outputs', name);
    if (!existsSync(file)) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `${file} does not exist`, { fix: 'the run writes it when its estimator finishes' });
    return readFileSync(file, 'utf8');
  }
}

function baseEntry(dir: string, r: RunRecord): Omit<RunEntry, 'trials' | 'resumes'> {
  const status = effectiveStatus(r);
  const endMs = r.end ? Date.parse(r.end) : status === 'running' ? Date.now() : Date.parse(r.heartbeat);
  const optim = (r.config as { optim?: { type?: unknown } } | undefined)?.optim?.type;
  return {
    dir,
    experiment: r.experiment,
    id: r.id,
    status,
    ...(typeof optim === 'string' ? { optim } : {}),
    start: r.start,
    ...(r.end ? { end: r.end } : {}),
    seconds: Math.max(0, (endMs - Date.parse(r.start)) / 1000),
  };
}

/** A run's row: status, backend, duration, trials and best score, from its records. */
function runEntry(dir: string, store: ExperimentStore, r: RunRecord): RunEntry {
  const e: RunEntry = { ...baseEntry(dir, r), trials: 0, resumes: r.resumes };
  for (const { record } of store.records('run_info', r.id)) if (typeof record.backend === 'string') e.backend = record.backend;
  for (const stream of ['candidates', 'trials']) {
    for (const { record } of store.records(stream, r.id)) {
      e.trials++;
      const s = typeof record.score === 'number' ? record.score : record.fitness;
      if (typeof s === 'number' && Number.isFinite(s) && (e.best === undefined || s > e.best)) e.best = s;
    }
  }
  return e;
}

function archFileNames(dir: string): string[] {
  const out = join(dir, 'outputs');
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .filter((n) => ARCH_FILE.test(n))
    .sort();
}

export function readArchFiles(dir: string): ArchFile[] {
  return archFileNames(dir).map((name) => {
    const text = readFileSync(join(dir, 'outputs', name), 'utf8');
    let desc: unknown;
    try {
      desc = parseYaml(text);
    } catch {
      desc = undefined;
    }
    return { name, estim: ARCH_FILE.exec(name)?.[1] ?? name, text, desc };
  });
}
