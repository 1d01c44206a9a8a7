#!/usr/bin/env node
// Writes schema/modnas.schema.json (and its copy packages/cli/schema/, shipped in the cli's tarball, without indentation): the JSON Schema of an experiment config, with every installed
// component's options, for editor completion (yaml-language-server). Reads the built plugins; the
// generation itself is @modnas/runtime's configJsonSchema, shared with `modnas schema`.
// `--check` exits 1 when the committed file is out of date.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRegistry } from '@modnas/core';
import { configJsonSchema } from '@modnas/runtime';
import { discoverPlugins } from '@modnas/discovery';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const file = join(root, 'schema/modnas.schema.json');
/** The copy the cli's tarball ships, for configs' `# yaml-language-server: $schema=node_modules/@modnas/cli/schema/modnas.schema.json`. */
const shipped = join(root, 'packages/cli/schema/modnas.schema.json');

/** The schema file's text for the repo's plugins (the same function `modnas schema` uses). */
export async function schemaSource() {
  const registry = getRegistry();
  discoverPlugins({ cwd: root, registry });
  return JSON.stringify(await configJsonSchema(registry), null, 2) + '\n';
}

/** The cli's copy: the same schema without indentation (editors read it; npm users download it: 40% smaller). */
export function shippedSource(src) {
  return JSON.stringify(JSON.parse(src)) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const src = await schemaSource();
  const want = new Map([
    [file, src],
    [shipped, shippedSource(src)],
  ]);
  const stale = [...want].filter(([f, text]) => !existsSync(f) || readFileSync(f, 'utf8') !== text).map(([f]) => f);
  if (process.argv.includes('--check')) {
    if (stale.length) {
      console.error(`${stale.join(', ')} out of date: run \`pnpm schemas\``);
      process.exit(1);
    }
    console.log('schema/modnas.schema.json and the cli\'s copy are up to date');
  } else {
    for (const f of stale) {
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, want.get(f));
      console.log(`wrote ${f}`);
    }
  }
}
