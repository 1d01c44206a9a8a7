import type { JsonObject } from './merge.js';
import { isObject } from './merge.js';

/** The embedded default dataset: real images installed from the registry (no download at run time). */
export const DEFAULT_DATASET = 'MNIST';

/**
 * Fill in what a config leaves out, by what it has: a model gets the embedded dataset and a Slot
 * exporter; a bare arch-param space gets a params exporter (`export: {}` asks for none). Ids only:
 * core depends on no plugin.
 */
export function withDefaults(raw: JsonObject): JsonObject {
  const out: JsonObject = { ...raw };
  const hasModel = isObject(out.model);
  const hasSpace = isObject(out.space);
  if (hasModel && out.data === undefined) out.data = { type: DEFAULT_DATASET };
  if (out.export === undefined) {
    if (hasModel) out.export = { default: { type: 'DefaultSlotTraversalExporter' } };
    else if (hasSpace) out.export = { default: { type: 'DefaultParamsExporter' } };
  }
  return out;
}
