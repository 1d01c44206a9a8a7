/** The files arch descriptions are read from and written to: the disk here, files.browser.ts in a browser. */
import { existsSync, readFileSync } from 'node:fs';
import { ModnasError } from '@modnas/core';
import { fileInside, writeFileAtomic, writeJsonAtomic, writeYamlAtomic } from '@modnas/kit-io';

/** The text of the arch_desc file at `path`; undefined when there is no such file. */
export function readDescFile(path: string, where?: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModnasError('MODNAS_E_ARCHDESC_FILE', `arch_desc file ${path} cannot be read: ${(e as Error).message}`, { where, cause: e });
  }
}

/** `path` inside `folder` (kit-io's fileInside), refused with `code` when it leaves it. */
export function descFileIn(folder: string, path: string, code: string, where: string): string {
  return fileInside(folder, path, { code, where, folderName: 'the experiment folder' });
}

/** Write a description atomically: text as it is, else JSON or YAML. */
export function writeDescFile(path: string, desc: unknown, format: 'yaml' | 'json'): void {
  if (typeof desc === 'string') writeFileAtomic(path, desc.endsWith('\n') ? desc : desc + '\n');
  else if (format === 'json') writeJsonAtomic(path, desc);
  else writeYamlAtomic(path, desc);
}
