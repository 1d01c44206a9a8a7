#!/usr/bin/env node
// Writes schema/modnas.schema.json: the JSON Schema of an experiment config, with every installed
// component's options, for editor completion (yaml-language-server). Reads the built plugins.
// `--check` exits 1 when the committed file is out of date.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExperimentSchema } from '@modnas/config';
import { getRegistry, z } from '@modnas/core';
import { registerRuntimeComponents } from '@modnas/runtime';
import { discoverPlugins } from '@modnas/discovery';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'schema/modnas.schema.json');

/** Where each component kind goes in the experiment schema. */
const SLOTS = {
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

export async function schemaSource() {
  const registry = getRegistry();
  discoverPlugins({ cwd: root, registry });
  // the executors that come with the runtime (InProcessExecutor, WorkerThreadsExecutor)
  registerRuntimeComponents(registry);
  await registry.loadAll();
  const byKind = {};
  const defs = {};
  for (const row of registry.list()) {
    // engines have no options: the config's `backend` key names one (its enum is the backend names)
    if (row.status !== 'loaded' || row.kind === 'engine') continue;
    const def = await registry.resolve(row.kind, row.id);
    const opts = z.toJSONSchema(def.schema, { io: 'input', unrepresentable: 'any' });
    delete opts.$schema;
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
  const schema = z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any' });
  schema.$schema = 'https://json-schema.org/draft/2020-12/schema';
  schema.title = '@modnas experiment';
  for (const [kind, paths] of Object.entries(SLOTS)) {
    const refs = byKind[kind];
    if (!refs) continue;
    for (const path of paths) {
      const keys = path.split('.');
      let node = schema.properties[keys[0]];
      if (!node) continue;
      // construct / desc_construct are a union (list or map): patch each branch
      const branches = node.anyOf ?? [node];
      for (const b of branches) {
        const target = keys[1] ? b[keys[1]] : undefined;
        if (keys[1] && target) b[keys[1]] = { anyOf: refs };
        else if (!keys[1]) Object.assign(b, { anyOf: refs });
      }
    }
  }
  schema.$defs = Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(schema, null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const src = await schemaSource();
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'utf8') !== src) {
      console.error('schema/modnas.schema.json is out of date: run `pnpm schemas`');
      process.exit(1);
    }
    console.log('schema/modnas.schema.json is up to date');
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, src);
    console.log(`wrote ${file}`);
  }
}
