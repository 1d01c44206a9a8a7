#!/usr/bin/env node
// Make a new plugin package with the house layout: `pnpm gen plugin <kind> <name> [Id ...]`.
// Writes plugins/<kind>-<name>/{package.json,tsconfig.json,README.md,LICENSE,src/index.ts,src/<name>.ts,src/<name>.test.ts}
// and adds the package to @modnas/all (scripts/package-meta.mjs). Run after `pnpm build` (the kinds
// come from @modnas/core, against which discovery checks every package.json).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPONENT_KINDS as KINDS } from '@modnas/core';
import { write as writePackageMeta } from './package-meta.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Kinds whose contracts (and component typing) live in @modnas/services. */
const SERVICE_KINDS = ['store', 'executor'];
const DIR_PREFIX = { exporter: 'export', 'mixed-op': 'mixed-op' };

const [what, kind, name, ...ids] = process.argv.slice(2);
if (what !== 'plugin' || !kind || !name) {
  console.error('usage: pnpm gen plugin <kind> <name> [Id ...]\n  kinds: ' + KINDS.join(', '));
  process.exit(2);
}
if (!KINDS.includes(kind)) {
  console.error(`unknown kind "${kind}"; use one of: ${KINDS.join(', ')}`);
  process.exit(2);
}
if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) {
  console.error(`name "${name}" must be lower-case words joined by dashes`);
  process.exit(2);
}
const dirName = `${DIR_PREFIX[kind] ?? kind}-${name}`;
const dir = join(root, 'plugins', dirName);
if (existsSync(dir)) {
  console.error(`${dir} exists already`);
  process.exit(1);
}
const pkgName = `@modnas/${dirName}`;
const coreVersion = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')).version;
const provides = ids.length ? ids : [name.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')];
const camel = (s) => s.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const service = SERVICE_KINDS.includes(kind);

const files = {
  'package.json': JSON.stringify(
    {
      name: pkgName,
      version: '0.1.0',
      description: `@modnas ${kind}: ${provides.join(', ')}`,
      type: 'module',
      license: 'MIT',
      keywords: ['modnas', 'modnas-plugin', 'neural-architecture-search'],
      exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' },
      main: './dist/index.js',
      types: './dist/index.d.ts',
      files: ['dist', 'README.md'],
      sideEffects: false,
      modnas: { schemaVersion: 1, kind, provides, aliases: {} },
      scripts: { build: 'tsup src/index.ts --format esm --dts --clean --sourcemap --target node20', typecheck: 'tsc --noEmit' },
      ...(service ? { dependencies: { '@modnas/services': 'workspace:^' } } : {}),
      peerDependencies: { '@modnas/core': 'workspace:^', '@modnas/nn': 'workspace:^' },
      devDependencies: { '@modnas/core': 'workspace:^', '@modnas/nn': 'workspace:^', '@modnas/testkit': 'workspace:^', vitest: '3.2.7' },
    },
    null,
    2,
  ) + '\n',
  'tsconfig.json': JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src'] }, null, 2) + '\n',
  'README.md': `# ${pkgName}\n\n${provides.map((p) => `\`${p}\``).join(', ')}: TODO one sentence on what it does.\n\n## Install\n\n\`\`\`sh\nnpm i ${pkgName} @modnas/core@^${coreVersion}\n\`\`\`\n\n## Use\n\n\`\`\`yaml\n# TODO: where it goes in an experiment config\n\`\`\`\n\n## Options\n\n| key | type | default | description |\n|---|---|---|---|\n`,
  'src/index.ts': `import { definePlugin } from '@modnas/core';\nimport pkg from '../package.json' with { type: 'json' };\nimport { ${camel(name)} } from './${name}.js';\n\nexport { ${camel(name)} };\n\nexport default definePlugin({\n  meta: { name: pkg.name, version: pkg.version },\n  components: [${camel(name)}],\n});\n`,
  [`src/${name}.ts`]: `import { defineComponent, z } from '@modnas/core';\n${service ? `// the '${kind}' kind and its contract\nimport type {} from '@modnas/services';\n` : ''}\nexport const ${camel(name)}Schema = z.strictObject({});\n\nexport const ${camel(name)} = defineComponent({\n  kind: '${kind}',\n  id: '${provides[0]}',\n  description: 'TODO',\n  schema: ${camel(name)}Schema,\n  create(config, ctx) {\n    throw new Error('TODO');\n  },\n});\n`,
  [`src/${name}.test.ts`]: `import { describeConformance } from '@modnas/testkit';\nimport plugin from './index.js';\n\ndescribeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });\n`,
};
for (const [rel, text] of Object.entries(files)) {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}
// license, engines, repository, files and LICENSE as every published package has them (and @modnas/all lists it)
writePackageMeta();
console.log(`created ${dir}\nnext: pnpm install, fill in src/${name}.ts and README.md, pnpm changeset`);
