#!/usr/bin/env node
// Builds the engine's kernels for this machine into native/ where no prebuilt package
// (@modnas/engine-native-<platform>) fits: the loader (src/native.ts) runs it once on first use
// when a C++ compiler is on PATH; `npm run build:native` runs it by hand. Never an install script.
//   native/modnas_kernels.<isa>.node  the baseline build (its cpu() names the best level) and, on
//                                     x86-64, the build of this processor's best level
//   native/modnas_dnnl.node           oneDNN convolutions, only where libdnnl-dev is installed
// MODNAS_ENGINE_KERNELS=js skips the build, MODNAS_ENGINE_NATIVE=0 skips oneDNN only; CXX picks
// the compiler. Exit code 1 where no kernels could be built (the reason on stderr).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { TARGETS, buildAddon, hostTarget, nodeInclude, pkgDir, srcDir } from './compile.mjs';

const say = (msg) => console.error(`[@modnas/engine-native] ${msg}`);
if (process.env.MODNAS_ENGINE_KERNELS === 'js') {
  say('native kernels skipped (MODNAS_ENGINE_KERNELS=js)');
  process.exit(0);
}
const outDir = resolve(process.argv[2] ?? join(pkgDir, 'native'));
const cxx = process.env.CXX || 'c++';
const host = hostTarget();
// The levels this machine could want: the prebuilt target's, or one portable build elsewhere.
const levels = host ? TARGETS[host].levels : process.arch === 'x64' ? TARGETS['linux-x64-gnu'].levels : [{ isa: process.arch === 'arm64' ? 'neon' : 'generic', flags: [] }];
const base = levels[levels.length - 1];

/** One addon, with OpenMP where the compiler has it. */
function build(level) {
  const t0 = Date.now();
  try {
    buildAddon({ target: host, level, outDir, cxx });
  } catch (e) {
    buildAddon({ target: host, level, outDir, cxx, openmp: false });
    say(`(${cxx} has no OpenMP: the kernels run on one thread)`);
    void e;
  }
  say(`modnas_kernels.${level.isa}.node built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${cxx} ${level.flags.join(' ')})`);
}

try {
  build(base);
  const best = createRequire(import.meta.url)(join(outDir, `modnas_kernels.${base.isa}.node`)).cpu();
  const level = levels.find((l) => l.isa === best);
  if (level && level !== base) build(level);
} catch (e) {
  say(`no native kernels built: ${e.message}`);
  process.exit(1);
}
if (process.env.MODNAS_ENGINE_NATIVE !== '0' && ['/usr/include', '/usr/local/include', '/opt/homebrew/include'].some((d) => existsSync(join(d, 'oneapi/dnnl/dnnl.hpp')))) {
  try {
    const files = ['module.cc', 'kernels.cc', 'dnnl_conv.cc'].map((f) => join(srcDir, f));
    execFileSync(cxx, ['-O3', '-std=gnu++17', '-march=native', '-fopenmp', '-shared', '-fPIC', '-fvisibility=hidden', '-DNODE_GYP_MODULE_NAME=modnas_dnnl', `-I${nodeInclude()}`, ...files, '-o', join(outDir, 'modnas_dnnl.node'), '-ldnnl'], { stdio: ['ignore', 'ignore', 'pipe'] });
    say('modnas_dnnl.node built');
  } catch (e) {
    say(`modnas_dnnl not built (${String(e.stderr ?? e.message).split('\n')[0]})`);
  }
}
