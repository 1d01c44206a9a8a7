#!/usr/bin/env node
// Builds native/modnas_dnnl.node: oneDNN kernels (Debian: apt-get install libdnnl-dev g++) on the
// N-API headers that ship with Node. Never fails the build: where it can't compile, it says why
// and the engine runs on its wasm kernels. MODNAS_ENGINE_NATIVE=0 skips it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(pkg, 'src/native/dnnl_kernels.cc');
const outDir = join(pkg, 'native');
const out = join(outDir, 'modnas_dnnl.node');
const say = (msg) => console.log(`[@modnas/engine-wasm] ${msg}`);

if (process.env.MODNAS_ENGINE_NATIVE === '0') {
  say('native kernels skipped (MODNAS_ENGINE_NATIVE=0); the engine will use its wasm kernels');
  process.exit(0);
}
if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs && statSync(out).mtimeMs > statSync(fileURLToPath(import.meta.url)).mtimeMs) {
  say(`native kernels up to date (${out})`);
  process.exit(0);
}
const nodeInc = [join(dirname(process.execPath), '../include/node'), '/usr/include/node', '/usr/local/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
const dnnlInc = ['/usr/include', '/usr/local/include'].find((d) => existsSync(join(d, 'oneapi/dnnl/dnnl.hpp')));
const why = !nodeInc ? 'Node\'s N-API headers (node_api.h) not found next to node' : !dnnlInc ? 'oneDNN headers not found (Debian/Ubuntu: apt-get install libdnnl-dev)' : undefined;
if (why) {
  say(`native kernels not built: ${why}; the engine will use its wasm kernels (slower training)`);
  process.exit(0);
}
const cxx = process.env.CXX || 'c++';
const args = ['-O3', '-march=x86-64-v2', '-fopenmp', '-std=c++17', '-shared', '-fPIC', '-fvisibility=hidden', '-DNODE_GYP_MODULE_NAME=modnas_dnnl', `-I${nodeInc}`, src, '-o', out, '-ldnnl'];
try {
  mkdirSync(outDir, { recursive: true });
  const t0 = Date.now();
  execFileSync(cxx, args, { stdio: ['ignore', 'inherit', 'pipe'] });
  say(`native kernels built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${out}`);
} catch (e) {
  const detail = String(e.stderr ?? e.message ?? e).split('\n').filter(Boolean).slice(0, 3).join(' | ');
  say(`native kernels not built (${cxx} failed: ${detail}); the engine will use its wasm kernels (slower training)`);
}
