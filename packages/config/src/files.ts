/** The files a config reads (config and arch_desc files): from the disk here, files.browser.ts in a browser. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ModnasError } from '@modnas/core';

/** The text of a config or arch file of at most `maxBytes`; coded errors name `what` and the path. */
export function readTextFile(path: string, what: string, maxBytes: number): string {
  if (!existsSync(path)) {
    throw new ModnasError('MODNAS_E_CONFIG_FILE', `${what} ${path} does not exist`, { fix: 'check the path (relative paths are read from the current directory)', where: path });
  }
  // a config or arch file is kilobytes: refuse a huge one before reading it (parsing 50 MB of YAML takes gigabytes)
  const st = statSync(path);
  if (!st.isFile()) throw new ModnasError('MODNAS_E_CONFIG_FILE', `${what} ${path} is not a file`, { fix: 'pass a YAML or JSON file', where: path });
  if (st.size > maxBytes) {
    throw new ModnasError('MODNAS_E_CONFIG_TOO_LARGE', `${what} ${path} is ${(st.size / 2 ** 20).toFixed(1)} MB; config and arch files are read up to ${maxBytes / 2 ** 20} MB`, {
      fix: 'pass the config file itself (a few kB), not a data or log file',
      where: path,
    });
  }
  return readFileSync(path, 'utf8');
}

/** `path` as written in the config file `from`: relative to that file's folder (when `from` is a file). */
export function besideFile(from: string, path: string): string {
  return isAbsolute(path) || !existsSync(from) ? path : resolve(dirname(from), path);
}
