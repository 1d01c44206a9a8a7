#!/usr/bin/env node
// A new first-party plugin package: `pnpm gen plugin <kind> <name> [Id ...]` writes plugins/<kind>-<name>
// with the templates of `npm create @modnas/plugin` (@modnas/create-plugin: one generator), with
// workspace:^ ranges, then adds the license, engines, repository and files fields every published
// package has, and lists it in @modnas/all (scripts/package-meta.mjs). Run after `pnpm build`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KINDS, createPlugin, validate } from '../packages/create-plugin/dist/index.js';
import { write as writePackageMeta } from './package-meta.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIR_PREFIX = { exporter: 'export', 'mixed-op': 'mixed-op' };

const [what, kind, name, ...ids] = process.argv.slice(2);
if (what !== 'plugin' || !kind || !name) {
  console.error('usage: pnpm gen plugin <kind> <name> [Id ...]\n  kinds: ' + KINDS.join(', '));
  process.exit(2);
}
if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
  console.error(`name "${name}" must be lower-case words joined by dashes`);
  process.exit(2);
}
const dirName = `${DIR_PREFIX[kind] ?? kind}-${name}`;
const dir = join(root, 'plugins', dirName);
const opts = { kind, name: `@modnas/${dirName}`, ids: ids.length ? ids : undefined, workspace: true };
const errs = validate(opts);
if (errs.length) {
  console.error(errs.join('\n'));
  process.exit(2);
}
if (existsSync(dir)) {
  console.error(`${dir} exists already`);
  process.exit(1);
}
createPlugin(dir, opts);
writePackageMeta();
console.log(`created ${dir}\nnext: pnpm install, fill in src/ and README.md, pnpm changeset`);
