/** files.ts in a browser: a tab has no files, so a config (and its arch_desc) is given as values, not paths. */
import { ModnasError } from '@modnas/core';

export function readTextFile(path: string, what: string, _maxBytes: number): string {
  throw new ModnasError('MODNAS_E_CONFIG_FILE', `${what} ${path} cannot be read: a browser has no files`, { fix: 'give the config (and its arch_desc) as values, not file paths', where: path });
}

export function besideFile(_from: string, path: string): string {
  return path;
}
