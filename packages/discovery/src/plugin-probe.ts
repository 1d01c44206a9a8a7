/**
 * A plugin's first import happens in a child process: an import that hangs (`while (true) {}`, a
 * top-level await on nothing), ends the process (`process.exit`, `process.reallyExit`, on a timer
 * too, within `settleMs` of the import) or crashes it is caught there and reported with its code,
 * so `modnas run`, `plugins doctor` and the rest never go down with it. Verdicts are remembered
 * (by name, version, entry file's size and time) in node_modules/.cache/modnas (else
 * ~/.cache/modnas), so the check costs one child process the first time only.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModnasError } from '@modnas/core';
import { PLUGIN_IMPORT_TIMEOUT_MS } from './plugin-import.js';

export interface ProbeTarget {
  name: string;
  version: string;
  entry: string;
}

/** How long after the imports a child keeps running, to catch an exit scheduled on a timer. */
export const PROBE_SETTLE_MS = 300;

/** The child: import each entry in turn, saying when it starts and ends; then stay a moment. */
const CHILD = `
const list = JSON.parse(process.argv[1]);
const settle = Number(process.argv[2]);
const say = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
for (const t of list) {
  say({ start: t.name });
  try { await import(t.url); say({ done: t.name }); }
  catch (e) { say({ done: t.name, threw: String(e && e.message || e).split('\\n')[0] }); }
}
setTimeout(() => { say({ settled: true }); process.exit(0); }, settle);
`;

interface ChildResult {
  /** Packages whose import finished (a throw counts: the host's own import reports it properly). */
  done: Set<string>;
  /** The package being imported when the child hung or ended, if it was importing. */
  culprit?: string;
  /** How it went wrong: 'timeout', or the exit code / signal. */
  failure?: string;
}

function runChild(list: readonly ProbeTarget[], timeoutMs: number, settleMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(list.map((t) => ({ name: t.name, url: pathToFileURL(t.entry).href })));
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, payload, String(settleMs)], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, MODNAS_PLUGIN_PROBE: '0' } });
    const res: ChildResult = { done: new Set() };
    let current: string | undefined;
    let settled = false;
    let buf = '';
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        res.failure = 'timeout';
        res.culprit = current;
        child.kill('SIGKILL');
      }, timeoutMs);
    };
    arm();
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let m: { start?: string; done?: string; settled?: boolean };
        try {
          m = JSON.parse(line) as typeof m;
        } catch {
          continue; // a plugin printing to stdout
        }
        if (m.start) {
          current = m.start;
          arm();
        } else if (m.done) {
          res.done.add(m.done);
          current = undefined;
        } else if (m.settled) settled = true;
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!res.failure && !settled) {
        res.failure = signal ? `signal ${signal}` : `exit code ${code}`;
        res.culprit = current;
      }
      resolve(res);
    });
  });
}

function verdict(t: ProbeTarget, failure: string, timeoutMs: number, scheduled: boolean): ModnasError {
  if (failure === 'timeout') {
    return new ModnasError('MODNAS_E_PLUGIN_TIMEOUT', `importing plugin ${t.name} did not finish in ${timeoutMs / 1000}s: its entry (or a module it imports) loops or awaits something that never settles`, {
      fix: `fix ${t.name}'s top-level code, or uninstall it (npm rm ${t.name}); MODNAS_PLUGIN_IMPORT_TIMEOUT_MS=<ms> allows a slower import`,
      where: t.entry,
    });
  }
  return new ModnasError('MODNAS_E_PLUGIN_EXIT', `plugin ${t.name} ended the process ${scheduled ? 'just after' : 'while'} being imported (${failure}); a plugin must not end the program`, {
    fix: `remove the process.exit (or crash) from ${t.name}'s top-level code, or uninstall it (npm rm ${t.name})`,
    where: t.entry,
  });
}

/**
 * Import the packages in child processes; returns the packages that hang or end the process on
 * import, with their coded errors (the rest passed). One child for all while all goes well; when a
 * child hangs or ends, the package it was importing is tried alone (a timer set by an earlier one
 * may have fired during its import), and if it passes, the ones imported before it, one by one.
 */
export async function probeImports(targets: readonly ProbeTarget[], opts: { timeoutMs?: number; settleMs?: number } = {}): Promise<Map<string, ModnasError>> {
  const timeoutMs = opts.timeoutMs ?? (Number(process.env.MODNAS_PLUGIN_IMPORT_TIMEOUT_MS) || PLUGIN_IMPORT_TIMEOUT_MS);
  const settleMs = opts.settleMs ?? PROBE_SETTLE_MS;
  const bad = new Map<string, ModnasError>();
  const alone = async (t: ProbeTarget): Promise<boolean> => {
    const one = await runChild([t], timeoutMs, settleMs);
    if (one.failure) bad.set(t.name, verdict(t, one.failure, timeoutMs, !one.culprit));
    return !one.failure;
  };
  const bisect = async (list: readonly ProbeTarget[]): Promise<void> => {
    if (list.length === 0) return;
    if (list.length === 1) {
      await alone(list[0]);
      return;
    }
    if (!(await runChild(list, timeoutMs, settleMs)).failure) return;
    const half = Math.ceil(list.length / 2);
    await bisect(list.slice(0, half));
    await bisect(list.slice(half));
  };
  let todo = [...targets];
  while (todo.length > 0) {
    const r = await runChild(todo, timeoutMs, settleMs);
    if (!r.failure) break;
    const tried = new Set<string>();
    const culprit = todo.find((x) => x.name === r.culprit);
    if (culprit) {
      tried.add(culprit.name);
      if (!(await alone(culprit))) {
        todo = todo.filter((x) => x.name !== culprit.name);
        continue;
      }
    }
    // the process ended after their imports had finished (a timer): halve the finished ones until it is found
    const finished = todo.filter((x) => r.done.has(x.name));
    for (const t of finished) tried.add(t.name);
    await bisect(finished);
    todo = todo.filter((x) => !tried.has(x.name));
  }
  return bad;
}

/** Where the verdicts are kept: beside the host's node_modules, else in the user's cache folder. */
function cacheFile(cwd: string): string {
  let dir = cwd;
  for (;;) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'modnas', 'plugin-probes.json');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'modnas', 'plugin-probes.json');
}

function keyOf(t: ProbeTarget): string | undefined {
  try {
    const st = statSync(t.entry);
    return `${t.name}@${t.version} ${t.entry} ${st.size} ${Math.floor(st.mtimeMs)}`;
  } catch {
    return undefined;
  }
}

/** What the cache keeps of a package: passed, or the coded error it failed with. */
type Verdict = true | { code: string; message: string; fix?: string };

/**
 * The verdicts of this process: packages probed and passed or failed. `probeOnce` checks every
 * package not yet known in one child (skipping the ones the cache says passed before).
 */
export class ImportProbe {
  private readonly passed = new Set<string>();
  private readonly failed = new Map<string, ModnasError>();
  private pending: Promise<void> | undefined;

  constructor(
    private readonly targets: () => readonly ProbeTarget[],
    private readonly cwd: string,
  ) {}

  /**
   * Probe every package now (`fresh`: all again, whatever the cache says); returns the ones that
   * hang or exit on import, with their errors (`plugins doctor`).
   */
  async checkAll(fresh = false): Promise<Map<string, ModnasError>> {
    if (fresh) {
      this.passed.clear();
      this.failed.clear();
    }
    this.pending ??= this.run(fresh).finally(() => (this.pending = undefined));
    await this.pending;
    return new Map(this.failed);
  }

  /** Throws the coded error of a package that hangs or exits on import; resolves for one that passed. */
  async check(name: string): Promise<void> {
    if (process.env.MODNAS_PLUGIN_PROBE === '0') return;
    if (!this.passed.has(name) && !this.failed.has(name)) {
      this.pending ??= this.run().finally(() => (this.pending = undefined));
      await this.pending;
      // a package discovered after the batch ran
      if (!this.passed.has(name) && !this.failed.has(name)) {
        this.pending ??= this.run().finally(() => (this.pending = undefined));
        await this.pending;
      }
    }
    const err = this.failed.get(name);
    if (err) throw err;
  }

  private async run(fresh = false): Promise<void> {
    const file = cacheFile(this.cwd);
    let cache: Record<string, Verdict> = {};
    try {
      if (existsSync(file)) cache = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Verdict>;
    } catch {
      cache = {};
    }
    const todo: ProbeTarget[] = [];
    for (const t of this.targets()) {
      if (this.passed.has(t.name) || this.failed.has(t.name)) continue;
      const key = keyOf(t);
      if (!key) continue; // a missing entry: the host's import says so
      const v = fresh ? undefined : cache[key];
      if (v === true) this.passed.add(t.name);
      else if (v) this.failed.set(t.name, new ModnasError(v.code, v.message, { fix: v.fix, where: t.entry }));
      else todo.push(t);
    }
    if (todo.length === 0) return;
    const bad = await probeImports(todo);
    for (const t of todo) {
      const err = bad.get(t.name);
      if (err) this.failed.set(t.name, err);
      else this.passed.add(t.name);
      const key = keyOf(t);
      // a verdict holds until the package's entry changes (reinstalled, rebuilt)
      if (key) cache[key] = err ? { code: err.code, message: err.message.split('\n')[0], fix: err.fix } : true;
    }
    try {
      mkdirSync(dirname(file), { recursive: true });
      // another process may write it too: each writes whole (rename), the last one wins
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(cache));
      renameSync(tmp, file);
    } catch {
      // an unwritable node_modules: probe again next time
    }
  }
}
