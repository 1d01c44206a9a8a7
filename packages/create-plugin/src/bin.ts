#!/usr/bin/env node
// `npm create @modnas/plugin [folder] -- --kind optim --name modnas-plugin-x --id XOptim`: asks what
// is missing on a terminal, else needs the flags.
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { KINDS, baseName, createPlugin, defaultIds, validate } from './create.js';
import { TEMPLATE_KINDS } from './templates.js';

const USAGE = `usage: npm create @modnas/plugin [folder] -- --kind <kind> --name <package> [--id <Id> ...]
  --kind       ${KINDS.join(', ')}
               (working templates: ${TEMPLATE_KINDS.join(', ')}; the others get create() to write)
  --name       the npm package name, e.g. modnas-plugin-annealing
  --id         a component's registry id (repeat for several; default: from the name)
  --workspace  @modnas dependencies as workspace:^ (inside the @modnas monorepo)
  --private    mark the package private
folder defaults to the name without its scope.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string', multiple: true },
      workspace: { type: 'boolean' },
      private: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let { kind, name, id: ids } = values;
  if ((!kind || !name) && process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      kind ||= (await rl.question(`kind (${TEMPLATE_KINDS.join(', ')}, or ${KINDS.filter((k) => !(TEMPLATE_KINDS as readonly string[]).includes(k)).join(', ')}) [optim]: `)).trim() || 'optim';
      name ||= (await rl.question('package name [modnas-plugin-example]: ')).trim() || 'modnas-plugin-example';
      if (!ids) {
        const suggested = defaultIds(kind, name).join(' ');
        const answer = (await rl.question(`component ids, separated by spaces [${suggested}]: `)).trim();
        ids = (answer || suggested).split(/\s+/);
      }
    } finally {
      rl.close();
    }
  }
  if (!kind || !name) {
    console.error(`missing ${!kind ? '--kind' : '--name'} (no terminal to ask on)\n${USAGE}`);
    return 2;
  }
  const opts = { kind, name, ids, workspace: values.workspace, private: values.private };
  const errs = validate(opts);
  if (errs.length > 0) {
    console.error(errs.join('\n'));
    return 2;
  }
  const dir = resolve(positionals[0] ?? baseName(name));
  try {
    createPlugin(dir, opts);
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  console.log(`created ${name} in ${dir}\nnext:\n  cd ${dir}\n  npm install\n  npm test`);
  return 0;
}

process.exitCode = await main();
