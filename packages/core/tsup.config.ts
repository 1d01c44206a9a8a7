import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import type { Options } from 'tsup';
import { defineConfig } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * @tensorflow/tfjs-core's Node entry registers no gradients (the tfjs umbrella does, and brings
 * layers, converter, data and webgl with it, ~290 MB). Its gradient configs ship only as
 * extensionless ESM that import core's internals; so do the chained ops (`x.reshape(...)`). This plugin bundles both (and the few
 * backprop ops that are not public) into core's dist, and points every other import at the one
 * installed tfjs-core's public API, so that one tfjs-core runs: its engine, registries and Tensor
 * class. A name that is not public fails the build, so a tfjs upgrade that moves one is caught here.
 */
const require = createRequire(import.meta.url);
const dist = dirname(require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js'));
const tfc = require('@tensorflow/tfjs-core') as Record<string, Record<string, unknown>>;
const publicNames: Record<string, string[]> = {
  main: Object.keys(tfc),
  util: Object.keys(tfc.util),
  backend_util: Object.keys(tfc.backend_util),
  slice_util: Object.keys(tfc.slice_util),
};
/** Modules of tfjs-core that hold state or live on the global object: always the installed copy. */
const shims: Record<string, string> = {
  engine: 'export const ENGINE = tfc.engine();',
  tensor: 'export const Tensor = tfc.Tensor;\nexport const getGlobalTensorClass = () => tfc.Tensor;',
  // Gradient code hands tensors only; the installed Tensor class is the one to check against.
  tensor_util_env: 'export const convertToTensor = (x) => (x instanceof tfc.Tensor ? x : tfc.tensor(x));\nexport const convertToTensorArray = (xs) => xs.map(convertToTensor);',
};
const exportsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^export (?:function\*?|const|let|class|var) ([\w$]+)|^export \{([^}]*)\}/gm)].flatMap((m) => (m[1] ? [m[1]] : m[2].split(',').map((s) => s.trim().split(/\s+as\s+/).pop()!)));
const valid = (n: string) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default';

const gradients: Plugin = {
  name: 'tfjs-core-gradients',
  setup(build) {
    build.onResolve({ filter: /register_all_(gradients|chained_ops)$/ }, (a) => ({ path: `${dist}/${a.path.replace(/^@tensorflow\/tfjs-core\/dist\//, '')}.js` }));
    build.onResolve({ filter: /^\.\.?\// }, (a) => {
      if (!a.importer.startsWith(dist)) return undefined;
      const rel = relative(dist, resolve(a.resolveDir, a.path)).replace(/\\/g, '/');
      const file = `${dist}/${rel}.js`;
      if (rel in shims) return { path: rel, namespace: 'tfjs-core-public' };
      if (rel === 'util') return { path: 'util', namespace: 'tfjs-core-public' };
      if (rel === 'ops/slice_util') return { path: 'slice_util', namespace: 'tfjs-core-public' };
      if (/^ops\/\w+_util$/.test(rel) && exportsOf(file).every((n) => publicNames.backend_util.includes(n))) return { path: 'backend_util', namespace: 'tfjs-core-public' };
      if (rel === 'ops/ops') return { path: 'main', namespace: 'tfjs-core-public' };
      if (!rel.startsWith('gradients/') && !rel.startsWith('public/') && exportsOf(file).every((n) => publicNames.main.includes(n))) return { path: 'main', namespace: 'tfjs-core-public' };
      return { path: file }; // a gradient config, or a backprop op that tfjs-core does not export
    });
    build.onLoad({ filter: /.*/, namespace: 'tfjs-core-public' }, (a) => {
      const head = "import * as tfc from '@tensorflow/tfjs-core';\n";
      if (a.path in shims) return { contents: head + shims[a.path] + '\n', loader: 'js' };
      const src = a.path === 'main' ? 'tfc' : `tfc.${a.path}`;
      return { contents: `${head}export const { ${publicNames[a.path].filter(valid).join(', ')} } = ${src};\n`, loader: 'js' };
    });
  },
};

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  noExternal: [/register_all_(gradients|chained_ops)$/],
  esbuildPlugins: [gradients],
  // Stack traces need the map's mappings and file names, not the sources themselves: without them
  // core's map (which holds the bundled tfjs-core gradients too) is a quarter of its size in npm installs.
  esbuildOptions(o) {
    o.sourcesContent = false;
  },
});
