/**
 * Folder confinement: whether a path stays inside a folder, as written and with its symbolic links
 * followed. One rule for every place that takes a path from input it does not trust to roam: a
 * worker's job paths, a trial's config file, the files an experiment's components write.
 */
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ModnasError } from '@modnas/core';

/** Whether `p` is `dir` or lies inside it (both absolute; no links followed). */
export function isInside(dir: string, p: string): boolean {
  const rel = relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The real path of `p`: its deepest existing ancestor with symlinks resolved, then the rest as written. */
export function realish(p: string): string {
  const rest: string[] = [];
  let at = p;
  for (;;) {
    try {
      return join(realpathSync(at), ...rest.reverse());
    } catch {
      const up = dirname(at);
      if (up === at) return p;
      rest.push(basename(at));
      at = up;
    }
  }
}

/** Why `s` is not a plain path (a NUL byte, a file: URL, a home folder's ~), or undefined. */
export function notPlainPath(s: string): string | undefined {
  if (s.includes('\0')) return 'a NUL byte';
  if (/^file:/i.test(s)) return 'a file: URL';
  if (/^~([\\/]|$)/.test(s)) return 'a path in a home folder (~)';
  return undefined;
}

/**
 * Whether `p` (absolute) stays in one of the folders `roots`: undefined when it lies inside one as
 * written and inside one once its links (and the folders') are followed (a link may lead from one
 * folder to another); 'outside' when it does not as written; 'link' when a symbolic link takes it out.
 */
export function escapeOf(roots: readonly string[], p: string): 'outside' | 'link' | undefined {
  if (!roots.some((r) => isInside(r, p))) return 'outside';
  const real = realish(p);
  return roots.some((r) => isInside(realish(r), real)) ? undefined : 'link';
}

export interface ConfineOptions {
  /** The error code. */
  code: string;
  /** The config key that named the path. */
  where: string;
  /** What the folder is, for the message ("the experiment folder"). */
  folderName: string;
}

/**
 * `file` resolved against `folder`, which it must not leave (as written or through a symbolic
 * link): else a ModnasError with `code`, naming the key and the fix. `~` and `file:` URLs are
 * refused too (they would be read as plain relative names).
 */
export function fileInside(folder: string, file: string, o: ConfineOptions): string {
  const refuse = (why: string): ModnasError =>
    new ModnasError(o.code, `${o.where} ${JSON.stringify(file)} ${why}`, {
      fix: `give ${o.where} relative to ${o.folderName} (${folder}), without ".." that climbs out of it`,
      where: o.where,
    });
  const odd = notPlainPath(file);
  if (odd) throw refuse(`is ${odd}, not a plain path inside ${o.folderName}`);
  const full = resolve(folder, file);
  const escape = escapeOf([folder], full);
  if (escape === 'outside') throw refuse(`lies outside ${o.folderName}`);
  if (escape === 'link') throw refuse(`leads outside ${o.folderName} through a symbolic link`);
  return full;
}
