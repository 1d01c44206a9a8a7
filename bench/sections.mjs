// The one writer of bench/RESULTS.md sections: each benchmark script owns the text between
// `<!-- <owner>: begin -->` and `<!-- <owner>: end -->` and replaces only that, so scripts that
// write the same file never drop each other's results.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');

export const markers = (owner) => ({ begin: `<!-- ${owner}: begin -->`, end: `<!-- ${owner}: end -->` });

/** `text` with the section of `owner` set to `body` (appended at the end when the file has none). */
export function withSection(text, owner, body) {
  const { begin, end } = markers(owner);
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = text.indexOf(begin);
  const j = i >= 0 ? text.indexOf(end, i) : -1;
  if (i >= 0 && j < 0) throw new Error(`${owner}: the file has "${begin}" but no "${end}"; fix the markers by hand`);
  return i >= 0 ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
}

/** Replace the section of `owner` in bench/RESULTS.md (or `file`). */
export function writeSection(owner, body, file = RESULTS_FILE) {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  writeFileSync(file, withSection(old, owner, body));
  return file;
}
