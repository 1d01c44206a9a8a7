/** Reading the modnas.json beside an exported model (meta.ts says what it holds). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModnasError } from '@modnas/core';
import type { ExportMeta } from './meta.js';
import { META_FILE, META_VERSION } from './meta.js';

export function readMeta(dir: string): ExportMeta {
  const file = join(dir, META_FILE);
  if (!existsSync(file)) {
    throw new ModnasError('MODNAS_E_PREDICT_MODEL', `${dir} holds no ${META_FILE}, so it is not a model that modnas export wrote`, {
      fix: 'pass the folder modnas export wrote (e.g. exp/quickstart-train/export/tfjs), or its parent',
      where: dir,
    });
  }
  let meta: ExportMeta;
  try {
    meta = JSON.parse(readFileSync(file, 'utf8')) as ExportMeta;
  } catch (e) {
    throw new ModnasError('MODNAS_E_PREDICT_MODEL', `${file} is not valid JSON: ${(e as Error).message}`, { fix: 'export the model again', where: file, cause: e });
  }
  if (meta.modnas_export !== META_VERSION || !meta.input || !meta.output || !Array.isArray(meta.classes)) {
    throw new ModnasError('MODNAS_E_PREDICT_MODEL', `${file} is not an export description this modnas reads (modnas_export ${String(meta.modnas_export)}, expected ${META_VERSION})`, {
      fix: 'export the model again with this modnas',
      where: file,
    });
  }
  return meta;
}
