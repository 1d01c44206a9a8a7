import type { ComponentKind, Registry } from '@modnas/core';
import { z } from '@modnas/core';
import { ExperimentSchema } from './schema.js';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[] };

/** Where each component kind goes in the experiment schema. */
const SLOTS: Readonly<Record<string, readonly string[]>> = {
  dataset: ['data'],
  backbone: ['model'],
  space: ['space'],
  trainer: ['trainer'],
  optim: ['optim'],
  executor: ['executor'],
  construct: ['construct.items', 'construct.additionalProperties', 'desc_construct.items', 'desc_construct.additionalProperties'],
  estim: ['estim.additionalProperties'],
  exporter: ['export.additionalProperties'],
  metrics: ['metrics.additionalProperties'],
  callback: ['callbacks.additionalProperties'],
};

/** A component's options as JSON Schema (zod 4's input side: what a config may write). */
export function optionsJsonSchema(schema: z.ZodType): JsonSchema {
  const opts = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete opts.$schema;
  return opts;
}

/**
 * The JSON Schema of an experiment config with the options of every component the registry holds
 * (its packages are imported: a broken one is left out), for editor completion (yaml-language-server)
 * and `modnas schema`. Engines have no options: the config's `backend` key names one.
 */
export async function experimentJsonSchema(registry: Registry): Promise<JsonSchema> {
  await registry.loadAll();
  const byKind: Record<string, Array<{ $ref: string }>> = {};
  const defs: Record<string, JsonSchema> = {};
  for (const row of registry.list()) {
    if (row.status !== 'loaded' || row.kind === 'engine') continue;
    const def = await registry.resolve(row.kind as ComponentKind, row.id);
    const opts = optionsJsonSchema(def.schema);
    const name = `${row.kind}.${row.id}`;
    defs[name] = {
      description: def.description,
      type: 'object',
      properties: { type: { enum: [row.id, ...row.aliases] }, args: opts, ...(opts.properties ?? {}) },
      required: ['type'],
      additionalProperties: false,
    };
    (byKind[row.kind] ??= []).push({ $ref: `#/$defs/${name}` });
  }
  const schema = z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  schema.$schema = 'https://json-schema.org/draft/2020-12/schema';
  schema.title = '@modnas experiment';
  for (const [kind, paths] of Object.entries(SLOTS)) {
    const refs = byKind[kind];
    if (!refs) continue;
    for (const path of paths) {
      const [top, sub] = path.split('.');
      const node = schema.properties?.[top];
      if (!node) continue;
      // construct / desc_construct are a union (list or map): patch each branch
      for (const b of node.anyOf ?? [node]) {
        if (sub && b[sub]) b[sub] = { anyOf: refs };
        else if (!sub) Object.assign(b, { anyOf: refs });
      }
    }
  }
  schema.$defs = Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b)));
  return schema;
}
