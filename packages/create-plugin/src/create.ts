import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KindTemplate } from './templates.js';
import { templateOf } from './templates.js';
import type { Versions } from './versions.js';
import { generatorVersions } from './versions.js';

/** The component kinds of @modnas/core (a test checks this list against core's COMPONENT_KINDS). */
export const KINDS = ['optim', 'estim', 'construct', 'mixed-op', 'primitive', 'backbone', 'exporter', 'trainer', 'dataset', 'metrics', 'callback', 'loss', 'store', 'space', 'executor', 'engine'] as const;

export interface PluginOptions {
  /** The component kind (one of KINDS). */
  kind: string;
  /** The npm package name, e.g. `modnas-plugin-annealing` or `@me/modnas-optim-annealing`. */
  name: string;
  /** Registry ids of its components (default: one, from the name). */
  ids?: string[];
  /** Ranges of the packages it depends on (default: this generator's own, see generatorVersions). */
  versions?: Versions;
  /** Inside a pnpm workspace that holds @modnas: `workspace:^` ranges for the @modnas packages. */
  workspace?: boolean;
  /** Mark the package private (an example that is not published). */
  private?: boolean;
}

const SUFFIX: Record<string, string> = { optim: 'Optim', estim: 'Estimator', construct: 'Constructor', exporter: 'Exporter', trainer: 'Trainer', metrics: 'Metrics', store: 'Store', executor: 'Executor', space: 'Space', callback: 'Callback', loss: 'Loss' };
const NAME_RE = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const ID_RE = /^[A-Za-z][A-Za-z0-9_]*$/;

const pascal = (s: string): string => s.split(/[-_.]/).filter(Boolean).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
const camel = (s: string): string => s[0].toLowerCase() + s.slice(1);
const kebab = (s: string): string => s.replace(/_/g, '-').replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2').toLowerCase();
/** `@me/modnas-plugin-annealing` -> `annealing`, `@modnas/optim-annealing` -> `annealing`. */
export const baseName = (name: string): string =>
  name.replace(/^@[^/]+\//, '').replace(/^modnas-(plugin-)?/, '').replace(new RegExp(`^(${[...KINDS, 'export'].join('|')})-(?=.)`), '');

/** What is wrong with the options (empty when nothing). */
export function validate(o: PluginOptions): string[] {
  const errs: string[] = [];
  if (!(KINDS as readonly string[]).includes(o.kind)) errs.push(`unknown kind "${o.kind}"; use one of: ${KINDS.join(', ')}`);
  if (!NAME_RE.test(o.name)) errs.push(`"${o.name}" is not a valid npm package name (lower case, digits, - . _ ~, an optional @scope/)`);
  for (const id of o.ids ?? []) if (!ID_RE.test(id)) errs.push(`component id "${id}" must start with a letter and have only letters, digits and _`);
  return errs;
}

export function defaultIds(kind: string, name: string): string[] {
  return [pascal(baseName(name)) + (SUFFIX[kind] ?? '')];
}

const fill = (text: string, id: string, file: string): string =>
  text.replaceAll('__CLASS__', pascal(id)).replaceAll('__VAR__', camel(pascal(id))).replaceAll('__ID__', id).replaceAll('__FILE__', file);

/** The files of the plugin package, by path relative to its folder. */
export function renderPlugin(o: PluginOptions): Record<string, string> {
  const errs = validate(o);
  if (errs.length > 0) throw new Error(errs.join('\n'));
  const v = o.versions ?? generatorVersions();
  const ids = o.ids && o.ids.length > 0 ? o.ids : defaultIds(o.kind, o.name);
  const t = templateOf(o.kind);
  const modnas = (pkg: '@modnas/core' | '@modnas/testkit'): string => (o.workspace ? 'workspace:^' : v[pkg]);
  const files: Record<string, string> = {};
  const json = (x: unknown): string => JSON.stringify(x, null, 2) + '\n';

  files['package.json'] = json({
    name: o.name,
    version: '0.1.0',
    ...(o.private ? { private: true } : {}),
    description: `@modnas ${o.kind} plugin: ${ids.join(', ')}`,
    type: 'module',
    license: 'MIT',
    keywords: ['modnas', 'modnas-plugin', 'neural-architecture-search'],
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' },
    main: './dist/index.js',
    types: './dist/index.d.ts',
    files: ['dist', 'README.md'],
    sideEffects: false,
    modnas: { schemaVersion: 1, kind: o.kind, provides: ids, aliases: {}, descriptions: Object.fromEntries(ids.map((id) => [id, templateDescription(t)])) },
    scripts: { build: 'tsup src/index.ts --format esm --dts --clean --sourcemap --target node20', ...(o.workspace ? {} : { test: 'vitest run' }), typecheck: 'tsc --noEmit' },
    peerDependencies: { '@modnas/core': modnas('@modnas/core') },
    // inside the monorepo the root's vitest config, tsconfig.base.json and tools serve every package
    devDependencies: o.workspace
      ? { '@modnas/core': modnas('@modnas/core'), '@modnas/testkit': modnas('@modnas/testkit'), vitest: v.vitest }
      : {
          '@modnas/core': modnas('@modnas/core'),
          '@modnas/testkit': modnas('@modnas/testkit'),
          '@tensorflow/tfjs-backend-cpu': v['@tensorflow/tfjs-backend-cpu'],
          '@types/node': v['@types/node'],
          tsup: v.tsup,
          typescript: v.typescript,
          vitest: v.vitest,
        },
  });
  if (o.workspace) files['tsconfig.json'] = json({ extends: '../../tsconfig.base.json', include: ['src'] });
  else files['tsconfig.json'] = json({
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      lib: ['ES2022'],
      types: ['node'],
      strict: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      skipLibCheck: true,
      declaration: true,
      forceConsistentCasingInFileNames: true,
    },
    include: ['src', 'vitest.config.ts', 'vitest.setup.ts'],
  });
  if (!o.workspace) files['vitest.config.ts'] = `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { setupFiles: ['./vitest.setup.ts'], testTimeout: 60_000 },
});
`;
  if (!o.workspace) files['vitest.setup.ts'] = `// tfjs needs a backend for the tests: the cpu one, in the copy of tfjs-core that @modnas/core uses
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@modnas/core';

await tf.setBackend('cpu');
`;
  files['.gitignore'] = 'node_modules\ndist\n';

  const fileOf = (id: string): string => kebab(id);
  const varOf = (id: string): string => camel(pascal(id));
  files['src/index.ts'] = `import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
${ids.map((id) => `import { ${varOf(id)} } from './${fileOf(id)}.js';`).join('\n')}

${ids.map((id) => `export { ${varOf(id)} } from './${fileOf(id)}.js';`).join('\n')}

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [${ids.map(varOf).join(', ')}],
});
`;
  const extra = t.skipCreate ? [`skipCreate: { ${ids.map((id) => `${id}: '${t.skipCreate}'`).join(', ')} }`] : [];
  files['src/index.test.ts'] = `// The conformance suite of @modnas/testkit: what every plugin must satisfy, and per kind what the
// component must do (an optimizer's state round-trips, a mixed op's α reaches its output, ...).
import { describeConformance } from '@modnas/testkit';
import plugin from './index.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),${extra.map((e) => `\n  ${e},`).join('')}
});
`;
  for (const id of ids) {
    const f = fileOf(id);
    files[`src/${f}.ts`] = fill(t.source, id, f);
    files[`src/${f}.test.ts`] = fill(`import { describe, expect, it } from 'vitest';
${t.testImports ? t.testImports + '\n' : ''}import { __VAR__ } from './__FILE__.js';

describe('__ID__', () => {
${t.test}
});
`, id, f).replace("import { describe, expect, it } from 'vitest';", t.test.includes('expect(') ? "import { describe, expect, it } from 'vitest';" : "import { describe, it } from 'vitest';");
  }
  const rows = t.options.map((r) => `| ${r.join(' | ')} |`).join('\n');
  files['README.md'] = `# ${o.name}

${ids.map((id) => `\`${id}\``).join(', ')} (a @modnas \`${o.kind}\` plugin): ${t.summary}

## Install

\`\`\`sh
npm i ${o.name}
\`\`\`

A project that depends on it finds it by its package.json's \`modnas\` field: a config uses it by id.

## Use

\`\`\`yaml
${fill(t.use, ids[0], fileOf(ids[0]))}
\`\`\`

## Options

| key | type | default | description |
|---|---|---|---|
${rows || '| (none yet) | | | |'}

## Develop

\`\`\`sh
npm install
npm test        # the @modnas/testkit conformance suite and the behaviour tests
npm run build   # dist/ (ESM and types)
\`\`\`

Made with \`npm create @modnas/plugin\`.
`;
  return files;
}

/** Write the plugin package into `dir` (none of its files may exist there yet); returns the files written. */
export function createPlugin(dir: string, o: PluginOptions): string[] {
  const files = renderPlugin(o);
  const there = Object.keys(files).filter((rel) => existsSync(join(dir, rel)));
  if (there.length > 0) throw new Error(`${dir} has ${there.join(', ')} already: choose another folder (or remove them)`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return Object.keys(files);
}

/** The one-line description the template's component declares (what `modnas plugins list` shows from the manifest). */
function templateDescription(t: KindTemplate): string {
  const m = /description: '((?:[^'\\]|\\.)*)'/.exec(t.source);
  return (m?.[1] ?? '').replace(/\\(.)/g, '$1');
}
