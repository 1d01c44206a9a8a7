/**
 * files.ts in a browser: a tab has no files. A string arch_desc is read as YAML text (one that names
 * a .yaml or .json file is refused as missing), and a run there has no experiment folder, so
 * archDescWriter refuses a `path` before it would write.
 */
import { ModnasError } from '@modnas/core';

export function readDescFile(_path: string, _where?: string): string | undefined {
  return undefined;
}

export function descFileIn(_folder: string, path: string, code: string, where: string): string {
  throw new ModnasError(code, `${where}: ${path} cannot be written: a browser has no experiment folder`, { fix: `set ${where} to null and use the returned description`, where });
}

export function writeDescFile(path: string, _desc: unknown, _format: 'yaml' | 'json'): void {
  throw new ModnasError('MODNAS_E_EXPORT_PATH', `${path} cannot be written: a browser has no files`, { fix: 'use the returned description' });
}
