/**
 * The path rule of a remote worker: a job's config may name files (a dataset's `path`, an
 * `arch_desc` file, a cache folder, anything a component reads or writes), but only inside the
 * worker's own folders (the folder `modnas worker` runs in, and each `--allow-dir`). Every string
 * of the keys the worker builds from is checked, since any component may treat one as a path:
 * resolved against the worker's folder, with symlinks followed, it must stay inside one of them.
 * Plain names ("MB3E6", "relu6") resolve inside and pass; absolute paths elsewhere, `..` that
 * climbs out, `~` and `file:` URLs are refused before anything is validated, built or read.
 */
import { isAbsolute, resolve } from 'node:path';
import { ModnasError } from '@modnas/core';
import { escapeOf, notPlainPath, realish } from '@modnas/kit-io';

export const WORKER_PATH_CODE = 'MODNAS_E_WORKER_PATH';

/** Top-level keys whose components a worker never creates (the coordinator's store, executor, exports ...): their paths are the coordinator's. */
export const WORKER_UNUSED_KEYS: ReadonlySet<string> = new Set(['name', 'output_dir', 'log_level', 'store', 'executor', 'export', 'callbacks', 'checkpoint', 'writer', 'optim']);

export interface WorkerFolders {
  /** The worker's working folder: relative paths are resolved from it. */
  cwd: string;
  /** Every folder a job's paths may point into (the working folder first). */
  roots: readonly string[];
}

/** The worker's folders, real paths (a symlinked working folder is its target). */
export function workerFolders(cwd: string, allow: readonly string[] = []): WorkerFolders {
  const roots = [cwd, ...allow].map((d) => realish(resolve(cwd, d)));
  return { cwd: resolve(cwd), roots: [...new Set(roots)] };
}

/** Why `s`, used as a path, would leave the worker's folders; undefined when it stays inside. */
export function pathEscape(s: string, folders: WorkerFolders): string | undefined {
  const odd = notPlainPath(s);
  if (odd) return odd;
  // as written and with its links followed, it must land in the worker's folders (a link may go from one to another)
  if (escapeOf(folders.roots, resolve(folders.cwd, s)) === undefined) return undefined;
  return isAbsolute(s) ? 'an absolute path outside the worker\'s folders' : 'a relative path that leads out of the worker\'s folders';
}

/**
 * Refuse a job whose config names a path outside the worker's folders (MODNAS_E_WORKER_PATH),
 * naming the key and the fix. Keys in WORKER_UNUSED_KEYS are skipped (the worker builds nothing
 * from them); object keys are names, not paths.
 */
export function checkJobPaths(config: Record<string, unknown>, folders: WorkerFolders, worker: string): void {
  const seen = new Map<string, string | undefined>();
  const visit = (v: unknown, key: string): void => {
    if (typeof v === 'string') {
      if (!seen.has(v)) seen.set(v, pathEscape(v, folders));
      const why = seen.get(v);
      if (why) {
        const shown = v.length > 120 ? `${v.slice(0, 120)}...` : v;
        throw new ModnasError(WORKER_PATH_CODE, `worker ${worker} refuses the job: ${key} is ${why} (${JSON.stringify(shown)}); a job may only name files inside the folders this worker was started with`, {
          fix: `give ${key} relative to the folder \`modnas worker\` runs in (the same layout on every worker), or start the worker with --allow-dir <folder> for data kept elsewhere`,
          where: `worker ${worker}, key ${key}`,
        });
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${key}[${i}]`));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) visit(x, `${key}.${k}`);
    }
  };
  for (const [k, v] of Object.entries(config)) if (!WORKER_UNUSED_KEYS.has(k)) visit(v, k);
}
