/**
 * Reading experiment stores for the dashboard: find the experiment folders (those with a store)
 * under a folder, read each store read-only while a run writes it, and build the runs table, the
 * view of one run and the live updates of the runs being watched.
 *
 * What it promises, whatever is under the folder:
 * - a store that cannot be opened or read marks its own experiment unreadable, the rest are served;
 * - new records are read once per experiment and poll, for every page watching it (and the runs
 *   table's counts come from the same reads), never once per page; the store's `recordsAfter`
 *   reads only what is new when the store has it;
 * - a store that opens fast (SQLite) is opened for each read and closed after it, so that the
 *   dashboard holds no connection on the database between polls and the run's checkpoints of its
 *   write-ahead log can restart it; one that replays on opening (a journal, which keeps no file
 *   open between calls) is kept;
 * - the only files served are those it listed itself: outputs/arch_*_best.yaml, regular files
 *   (no symbolic links), found by reading the folder, never by joining a requested name.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse as parseYaml } from 'yaml';
import type { Registry } from '@modnas/core';
import { ModnasError, getRegistry, isModnasError } from '@modnas/core';
import type { ExperimentStore, RunRecord, StoreFactory, StoredRecord } from '@modnas/services';
import { effectiveStatus, existingStoreFactories } from '@modnas/services';
import { discoverPlugins } from '@modnas/discovery';
import { redactPaths } from './security.js';
import type { ArchFile, ExperimentEntry, RecordIn, RunEntry, RunState, RunView } from './view.js';
import { foldRecord } from './view.js';

/** How deep under the served folder experiment folders are looked for (exp/ -> exp/<name>/ -> exp/<group>/<name>/). */
const MAX_DEPTH = 3;
const ARCH_FILE = /^arch_(.+)_best\.ya?ml$/;
/** An arch file larger than this is not read (they are a few hundred bytes). */
const ARCH_MAX_BYTES = 4 * 2 ** 20;
/** Folders an experiment keeps inside itself: never experiments of their own. */
const SKIP = new Set(['node_modules', 'logs', 'outputs', 'checkpoints', 'writers']);
/**
 * A store whose opening took longer than this, SLOW_OPENS times in a row, is kept open between reads
 * (it replays on opening), for KEEP_FOR_MS; then it is reopened and timed again (a store wrongly
 * kept, its opening slowed by a busy machine, holds its files for that long at most).
 */
const KEEP_OPEN_MS = 25;
const SLOW_OPENS = 2;
const KEEP_FOR_MS = 60_000;
/** Views of this many runs are kept between requests (each brought up to date by its new records only). */
const VIEWS_KEPT = 4;
/** New records kept per experiment for pages that start watching a run (they catch up from here, not from the store). */
const RECENT_MAX = 20_000;
/** The folder is looked through for new experiments at most this often (the runs list asks every few seconds)... */
const REFRESH_MS = 2_000;
/**
 * ...and at most this often when a page asks for an experiment folder not listed yet (a run just
 * started, its page opened before the list saw it): the folder is looked through again before the
 * answer is 404, whatever the name asked (nothing is joined from it).
 */
const MISS_REFRESH_MS = 250;

/** What a store may offer besides the contract: the records after an id, oldest first (reads only what is new). */
type StoreWithTail = ExperimentStore & { recordsAfter?(afterId: number, runId?: string): StoredRecord[] };

/** Records after `afterId` (of one run, or of every run): the store's own `recordsAfter` when it has one, else every record filtered. */
export function recordsAfter(store: ExperimentStore, afterId: number, runId?: string): StoredRecord[] {
  const s = store as StoreWithTail;
  if (typeof s.recordsAfter === 'function') return s.recordsAfter(afterId, runId);
  return store.records(undefined, runId).filter((r) => r.id > afterId);
}

/** What the runs table shows of a run besides its record: counted from its records as they are read. */
interface RunSummary {
  trials: number;
  best?: number;
  backend?: string;
  /** The newest record folded in. */
  lastId: number;
  /** The run's resume count when summarised: a resume deletes and rewrites records, so it is summarised afresh. */
  resumes: number;
}

/** What has been read of one experiment's store. */
interface Tail {
  /** Every record up to this id has been folded into the summaries. */
  lastId: number;
  runs: Map<string, RunSummary>;
  /** The newest records read (for pages that start watching), and the id just before the oldest of them. */
  recent: StoredRecord[];
  recentFrom: number;
  /** No read of new records before this time (reads that take long back off). */
  nextAt: number;
}

/** An update for a page watching a run. */
export interface LiveUpdate {
  records: RecordIn[];
  /** The run's status and duration now (absent with a failure). */
  run?: RunState;
  /** The run was resumed (records after its checkpoint deleted and written again): reload the run's view. */
  reset?: boolean;
  /** The store could not be read this time. */
  failure?: string;
}

interface Follower {
  run: string;
  after: number;
  lastState: string;
  send(u: LiveUpdate): void;
}

interface Source {
  /** Relative to the root, '/'-separated ('' for the root itself). */
  dir: string;
  abs: string;
  /** The store plugin's factory that found the store here (it reopens it for each read). */
  factory: StoreFactory;
  /** Kept open only when opening is slow (see KEEP_OPEN_MS). */
  store?: ExperimentStore;
  slowOpens: number;
  keptAt?: number;
  error?: { code: string; message: string };
  /** The whitelist of files served: arch file name -> the path it was listed at. */
  arch: Map<string, string>;
  tail?: Tail;
  followers: Set<Follower>;
  timer?: NodeJS.Timeout;
}

/** Candidate folders at or under `root` (relative to it, '' for root itself), sorted; symbolic links are not followed. */
function candidateDirs(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string, depth: number): void => {
    out.push(relative(root, dir).split(sep).join('/'));
    if (depth >= MAX_DEPTH) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.') || SKIP.has(e.name) || !e.isDirectory()) continue;
      visit(join(dir, e.name), depth + 1);
    }
  };
  visit(root, 0);
  return out;
}

function runState(r: RunRecord): RunState {
  const { status, seconds, end } = baseEntry('', r);
  return { status, seconds, ...(end ? { end } : {}) };
}

const toRecordIn = (r: StoredRecord): RecordIn => ({ id: r.id, stream: r.stream, record: r.record });

function foldSummary(s: RunSummary, r: StoredRecord): void {
  if (r.id <= s.lastId) return;
  s.lastId = r.id;
  const rec = r.record;
  if (r.stream === 'run_info') {
    if (typeof rec.backend === 'string') s.backend = rec.backend;
  } else if (r.stream === 'candidates' || r.stream === 'trials') {
    s.trials++;
    const v = typeof rec.score === 'number' ? rec.score : rec.fitness;
    if (typeof v === 'number' && Number.isFinite(v) && (s.best === undefined || v > s.best)) s.best = v;
  }
}

/**
 * The experiment stores under one folder, whichever installed store plugin wrote each (SQLite
 * modnas.db, journal.jsonl, ...), read-only.
 */
export class StoreSet {
  private readonly sources = new Map<string, Source>();
  /** The views of the runs asked for most recently, kept up to date by reading only their new records. */
  private readonly views = new Map<string, { view: RunView; resumes: number }>();
  private refreshedAt = 0;
  private factories?: StoreFactory[];
  private closed = false;

  private constructor(
    readonly root: string,
    private readonly registry: Registry,
    private readonly pollMs: number,
  ) {}

  /**
   * The stores under `root`; refuses a folder without any (a folder whose only stores are
   * unreadable is served, with them marked). `registry`: where store plugins are found (default:
   * discovered from the current project). `pollMs`: how often watched runs are read.
   */
  static async open(root: string, registry?: Registry, opts: { pollMs?: number } = {}): Promise<StoreSet> {
    const abs = resolve(root);
    let isDir = false;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) throw new ModnasError('MODNAS_E_UI_FOLDER', `${abs} is not a folder`, { fix: 'pass the folder of an experiment (exp/<name>) or the folder holding experiments (exp/)' });
    let reg = registry;
    if (!reg) {
      reg = getRegistry();
      discoverPlugins({ registry: reg });
    }
    const set = new StoreSet(abs, reg, opts.pollMs ?? 500);
    await set.refresh(true);
    if (set.sources.size === 0) {
      const stores = reg.list().filter((r) => r.kind === 'store').map((r) => r.id);
      throw new ModnasError('MODNAS_E_UI_NO_STORE', `no experiment store in ${abs} or the folders under it (${MAX_DEPTH} levels), for the store plugins installed (${stores.join(', ') || 'none'})`, {
        fix: 'run a search first ("modnas run <config.yaml>" writes its store into <output_dir>/<name>/), or pass the folder that holds it; a store written by a plugin not installed here needs that plugin (e.g. npm i @modnas/store-sqlite for modnas.db)',
      });
    }
    return set;
  }

  /**
   * The factory of every installed store plugin, made once, in the order openExistingStore asks
   * them (@modnas/services): a folder's store is the first that `existing()` finds, and that factory
   * reopens it for each read, synchronously.
   */
  private async storeFactories(): Promise<StoreFactory[]> {
    this.factories ??= await existingStoreFactories(this.registry);
    return this.factories;
  }

  /** Look for experiment folders that appeared since the last look (at most every REFRESH_MS unless forced). */
  async refresh(force = false): Promise<void> {
    if (!force && Date.now() - this.refreshedAt < REFRESH_MS) return;
    this.scan(await this.storeFactories());
  }

  /** Look through the folder for experiment folders not known yet (each candidate asked of every store plugin). */
  private scan(factories: StoreFactory[]): void {
    this.refreshedAt = Date.now();
    for (const dir of candidateDirs(this.root)) {
      if (this.sources.has(dir)) continue;
      const abs = dir === '' ? this.root : join(this.root, ...dir.split('/'));
      for (const factory of factories) {
        const src: Source = { dir, abs, factory, slowOpens: 0, arch: new Map(), followers: new Set() };
        try {
          this.with(src, () => undefined);
        } catch (e) {
          if (isModnasError(e) && e.code === 'MODNAS_E_UI_NOT_FOUND') continue; // not this plugin's
        }
        this.sources.set(dir, src); // readable, or marked unreadable
        break;
      }
    }
  }

  /** The experiment folders (relative to the root), readable or not. */
  dirs(): string[] {
    return [...this.sources.keys()].sort();
  }

  /** Why an experiment's store cannot be read, when it cannot. */
  storeError(dir: string): { code: string; message: string } | undefined {
    return this.source(dir).error;
  }

  close(): void {
    this.closed = true;
    for (const s of this.sources.values()) {
      if (s.timer) clearInterval(s.timer);
      s.followers.clear();
      s.store?.close();
      s.store = undefined;
    }
    this.sources.clear();
    this.views.clear();
  }

  private source(dir: string): Source {
    let s = this.sources.get(dir);
    if (!s && this.factories && Date.now() - this.refreshedAt >= MISS_REFRESH_MS) {
      this.scan(this.factories);
      s = this.sources.get(dir);
    }
    if (!s) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `no experiment folder "${dir.slice(0, 200)}" in the folder served`, { fix: 'pick an experiment from the runs list' });
    return s;
  }

  private unreadable(src: Source, e: unknown): ModnasError {
    const cause = isModnasError(e) ? `${e.code}: ${e.message}` : (e as Error)?.message ?? String(e);
    const err = new ModnasError('MODNAS_E_UI_STORE_UNREADABLE', redactPaths(`the store of experiment "${src.dir || basename(this.root)}" cannot be read: ${cause}`, this.root), {
      fix: 'check the file (for SQLite: sqlite3 modnas.db "PRAGMA integrity_check"), restore it or move it out of the folder; the other experiments are served',
      cause: e,
    });
    src.error = { code: err.code, message: err.message };
    return err;
  }

  /**
   * Run `fn` on the experiment's store: opened for the call and closed after it, unless it is kept
   * (slow to open). Synchronous from opening to closing: no other read interleaves.
   */
  private with<T>(src: Source, fn: (store: ExperimentStore) => T): T {
    if (src.store && Date.now() - (src.keptAt ?? 0) > KEEP_FOR_MS) {
      src.store.close();
      src.store = undefined;
      src.slowOpens = SLOW_OPENS - 1; // one more slow opening keeps it again
    }
    let store = src.store;
    let closeAfter = false;
    if (!store) {
      const t = performance.now();
      let opened: ExperimentStore | undefined;
      try {
        opened = src.factory.existing?.(src.abs);
      } catch (e) {
        throw this.unreadable(src, e);
      }
      if (!opened) {
        if (src.timer) clearInterval(src.timer);
        if (this.sources.get(src.dir) === src) this.sources.delete(src.dir);
        throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `experiment "${src.dir}" has no store (any more)`, { fix: 'pick an experiment from the runs list' });
      }
      src.slowOpens = performance.now() - t > KEEP_OPEN_MS ? src.slowOpens + 1 : 0;
      if (src.slowOpens >= SLOW_OPENS) {
        src.store = opened;
        src.keptAt = Date.now();
      }
      else closeAfter = true;
      store = opened;
    }
    try {
      const out = fn(store);
      src.error = undefined;
      return out;
    } catch (e) {
      if (isModnasError(e) && e.code.startsWith('MODNAS_E_UI_')) throw e;
      if (src.store) {
        // reopen next time: the file may have been replaced
        src.store.close();
        src.store = undefined;
        src.slowOpens = 0;
      }
      throw this.unreadable(src, e);
    } finally {
      if (closeAfter) store.close();
    }
  }

  /** Every record of the store folded into per-run summaries (the first read of an experiment). */
  private buildTail(store: ExperimentStore, runs: readonly RunRecord[]): Tail {
    const last = store.lastRecordId();
    const all = store.records(undefined);
    const lastId = Math.max(last, all.length ? all[all.length - 1].id : 0);
    const tail: Tail = { lastId, runs: new Map(), recent: [], recentFrom: lastId, nextAt: 0 };
    for (const r of runs) this.summary(tail, r.id, r.resumes);
    for (const r of all) foldSummary(this.summary(tail, r.run), r);
    return tail;
  }

  private summary(tail: Tail, run: string, resumes = 0): RunSummary {
    let s = tail.runs.get(run);
    if (!s) tail.runs.set(run, (s = { trials: 0, lastId: 0, resumes }));
    return s;
  }

  /**
   * Bring the experiment's summaries up to date (new records read when due) and send the pages
   * watching its runs what is new for them. Synchronous: nothing else reads the store meanwhile.
   */
  private catchUp(src: Source, store: ExperimentStore, force: boolean): RunRecord[] {
    const runs = store.runs();
    const tail = (src.tail ??= this.buildTail(store, runs));
    const reset = new Set<string>();
    for (const r of runs) {
      const s = tail.runs.get(r.id);
      if (!s) {
        this.summary(tail, r.id, r.resumes);
      } else if (s.resumes !== r.resumes) {
        // resumed: its records after the checkpoint were deleted and are written again
        const fresh: RunSummary = { trials: 0, lastId: 0, resumes: r.resumes };
        for (const rec of store.records(undefined, r.id)) foldSummary(fresh, rec);
        tail.runs.set(r.id, fresh);
        reset.add(r.id);
      }
    }
    if (reset.size) {
      tail.recent = [];
      tail.recentFrom = tail.lastId;
    }
    let fresh: StoredRecord[] = [];
    const now = Date.now();
    if (force || now >= tail.nextAt) {
      const last = store.lastRecordId();
      if (last > tail.lastId) {
        const t = performance.now();
        fresh = recordsAfter(store, tail.lastId);
        // a store without recordsAfter reads everything: poll it less often the longer that takes
        tail.nextAt = now + 4 * (performance.now() - t);
        for (const r of fresh) foldSummary(this.summary(tail, r.run), r);
        tail.lastId = Math.max(last, fresh.length ? fresh[fresh.length - 1].id : 0);
        for (const r of fresh) tail.recent.push(r);
        if (tail.recent.length > RECENT_MAX) {
          const cut = tail.recent.length - RECENT_MAX;
          tail.recentFrom = tail.recent[cut - 1].id;
          tail.recent = tail.recent.slice(cut);
        }
      }
    }
    for (const f of src.followers) {
      const run = runs.find((r) => r.id === f.run);
      if (!run) continue;
      const state = runState(run);
      const stateText = JSON.stringify({ status: state.status, end: state.end, t: Math.floor(state.seconds / 5) });
      if (reset.has(f.run)) {
        f.after = tail.runs.get(f.run)?.lastId ?? tail.lastId;
        f.lastState = stateText;
        f.send({ records: [], run: state, reset: true });
        continue;
      }
      const mine = fresh.filter((r) => r.run === f.run && r.id > f.after);
      if (mine.length === 0 && stateText === f.lastState) continue;
      if (mine.length) f.after = mine[mine.length - 1].id;
      f.lastState = stateText;
      f.send({ records: mine.map(toRecordIn), run: state });
    }
    return runs;
  }

  /** Catch the experiment up. */
  private update(src: Source, force = false): RunRecord[] {
    return this.with(src, (store) => this.catchUp(src, store, force));
  }

  /** Every experiment with its runs (status, backend, duration, trials, best score) and arch files; an unreadable store is listed with its error. */
  async experiments(): Promise<ExperimentEntry[]> {
    await this.refresh();
    const out: ExperimentEntry[] = [];
    for (const dir of this.dirs()) {
      const src = this.sources.get(dir);
      if (!src) continue;
      const name = basename(src.abs) || dir;
      try {
        const runs = this.update(src);
        const tail = src.tail as Tail;
        out.push({ dir, experiment: runs[0]?.experiment ?? name, runs: runs.map((r) => runEntry(dir, r, tail.runs.get(r.id))), archFiles: [...this.listArch(src).keys()] });
      } catch (e) {
        if (isModnasError(e) && e.code === 'MODNAS_E_UI_NOT_FOUND') continue; // its store is gone
        const err = src.error ?? { code: 'MODNAS_E_UI_STORE_UNREADABLE', message: redactPaths((e as Error).message, this.root) };
        out.push({ dir, experiment: name, runs: [], archFiles: [], error: err });
      }
    }
    return out;
  }

  /**
   * Read the views of the newest runs (the newest of each experiment, VIEWS_KEPT at most) in the
   * background, one a turn of the event loop, so that the first page to open one finds it read.
   */
  prefetch(): void {
    const newest: Array<{ dir: string; id: string; start: string }> = [];
    for (const src of this.sources.values()) {
      try {
        const runs = this.with(src, (store) => store.runs());
        const r = runs[runs.length - 1];
        if (r) newest.push({ dir: src.dir, id: r.id, start: r.start });
      } catch {
        // an unreadable store is listed as such when asked for
      }
    }
    const todo = newest.sort((a, b) => b.start.localeCompare(a.start)).slice(0, VIEWS_KEPT).reverse();
    const next = (): void => {
      const r = todo.pop();
      if (!r || this.closed) return;
      try {
        this.runView(r.dir, r.id);
      } catch {
        // read again (and its error answered) when a page asks for it
      }
      setImmediate(next);
    };
    setImmediate(next);
  }

  /** The runs of an experiment (e.g. to pick the newest). */
  runs(dir: string): RunRecord[] {
    return this.with(this.source(dir), (store) => store.runs());
  }

  runView(dir: string, runId: string): RunView {
    const src = this.source(dir);
    const key = `${src.dir}\0${runId}`;
    const view = this.with(src, (store) => {
      const runs = store.runs();
      const rec = runs.find((r) => r.id === runId);
      if (!rec) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `experiment "${dir}" has no run "${runId.slice(0, 200)}"`, { fix: `its runs: ${runs.map((r) => r.id).join(', ') || '(none)'}` });
      // the view of a run asked for before is brought up to date with its new records (a large run
      // is read whole once); a resume rewrote records after its checkpoint, so it is read afresh
      let kept = this.views.get(key);
      this.views.delete(key);
      if (!kept || kept.resumes !== rec.resumes) {
        kept = { view: { dir, run: { ...baseEntry(dir, rec), trials: 0, resumes: rec.resumes }, metrics: [], trials: [], alpha: [], slots: [], arch: [], lastId: 0 }, resumes: rec.resumes };
        for (const r of store.records(undefined, runId)) foldRecord(kept.view, r);
      } else {
        for (const r of recordsAfter(store, kept.view.lastId, runId)) foldRecord(kept.view, r);
      }
      const v = kept.view;
      v.run = { ...v.run, ...baseEntry(dir, rec), resumes: rec.resumes };
      this.views.set(key, kept);
      while (this.views.size > VIEWS_KEPT) this.views.delete(this.views.keys().next().value as string);
      return { v, newest: runs[runs.length - 1]?.id === runId };
    });
    // outputs/ holds the newest run's files
    view.v.arch = view.newest ? this.readArchFiles(src) : [];
    return view.v;
  }

  /**
   * Watch a run: `send` gets its records after `after` (at once those already read, then each new
   * batch as the experiment is polled) and its state. Throws MODNAS_E_UI_NOT_FOUND for an unknown
   * run before anything is sent. Returns the function that stops watching.
   */
  follow(dir: string, runId: string, after: number, send: (u: LiveUpdate) => void): () => void {
    const src = this.source(dir);
    const f: Follower = { run: runId, after, lastState: '', send };
    this.with(src, (store) => {
      const runs = this.catchUp(src, store, false);
      const run = runs.find((r) => r.id === runId);
      if (!run) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `experiment "${dir}" has no run "${runId.slice(0, 200)}"`, { fix: 'pick a run from the runs list' });
      const tail = src.tail as Tail;
      let records: StoredRecord[] = [];
      if (after < tail.lastId) {
        records = after >= tail.recentFrom ? tail.recent.filter((r) => r.run === runId && r.id > after) : recordsAfter(store, after, runId).filter((r) => r.id <= tail.lastId);
      }
      f.after = Math.max(after, tail.lastId);
      const state = runState(run);
      f.lastState = JSON.stringify({ status: state.status, end: state.end, t: Math.floor(state.seconds / 5) });
      send({ records: records.map(toRecordIn), run: state });
      src.followers.add(f);
    });
    src.timer ??= setInterval(() => {
      try {
        this.update(src);
      } catch (e) {
        for (const x of src.followers) x.send({ records: [], failure: redactPaths((e as Error).message, this.root) });
      }
    }, this.pollMs);
    return () => {
      src.followers.delete(f);
      if (src.followers.size === 0 && src.timer) {
        clearInterval(src.timer);
        src.timer = undefined;
      }
    };
  }

  /** The arch files of an experiment, listed afresh: the whitelist of what /api/arch serves. */
  private listArch(src: Source): Map<string, string> {
    const out = join(src.abs, 'outputs');
    const files = new Map<string, string>();
    try {
      if (lstatSync(out).isDirectory()) {
        for (const e of readdirSync(out, { withFileTypes: true })) if (e.isFile() && ARCH_FILE.test(e.name)) files.set(e.name, join(out, e.name));
      }
    } catch {
      // no outputs/ yet
    }
    src.arch = new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return src.arch;
  }

  private readArchFiles(src: Source): ArchFile[] {
    const files: ArchFile[] = [];
    for (const [name, path] of this.listArch(src)) {
      const text = readListed(path);
      if (text === undefined) continue;
      let desc: unknown;
      try {
        desc = parseYaml(text);
      } catch {
        desc = undefined;
      }
      files.push({ name, estim: ARCH_FILE.exec(name)?.[1] ?? name, text, desc });
    }
    return files;
  }

  /** The text of an arch file the experiment's listing holds (the listing is read afresh; nothing else is served). */
  archText(dir: string, name: string): string {
    const src = this.source(dir);
    const path = this.listArch(src).get(name);
    const text = path === undefined ? undefined : readListed(path);
    if (text === undefined) throw new ModnasError('MODNAS_E_UI_NOT_FOUND', `experiment "${dir}" lists no file "${name.slice(0, 200)}"`, { fix: 'only the outputs/arch_<estim>_best.yaml files of an experiment, as listed, are served' });
    return text;
  }
}

/** A listed file, if it is still a regular file (not a link put there since) and not too large. */
function readListed(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > ARCH_MAX_BYTES) return undefined;
    const buf = Buffer.alloc(st.size);
    let at = 0;
    while (at < buf.length) {
      const n = readSync(fd, buf, at, buf.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at).toString('utf8');
  } finally {
    closeSync(fd);
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
    seconds: Math.max(0, (endMs - Date.parse(r.start)) / 1000) || 0,
  };
}

/** A run's row: status, backend, duration, trials and best score. */
function runEntry(dir: string, r: RunRecord, s: RunSummary | undefined): RunEntry {
  return { ...baseEntry(dir, r), trials: s?.trials ?? 0, resumes: r.resumes, ...(s?.best === undefined ? {} : { best: s.best }), ...(s?.backend === undefined ? {} : { backend: s.backend }) };
}
