#!/usr/bin/env node
// Builds the prebuilt binaries of one platform package (@modnas/engine-native-<target>) from
// src/native, with that target's compiler (scripts/compile.mjs: g++, Debian's
// aarch64-linux-gnu-g++, mingw-w64's x86_64-w64-mingw32-g++): one addon per ISA level, into the
// package's bin/. Runs in each platform package's workspace `build`, so CI builds them from source
// on every run. Where the cross compiler is absent it says so and exits 0 (the package then ships
// no binaries from this machine: publish from one that has it). MODNAS_REQUIRE_CROSS=1 makes that
// an error.
//   node ../engine-native/scripts/build-prebuilt.mjs <target> [outDir]
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TARGETS, buildAddon, compilerVersion } from './compile.mjs';

const [target, out = 'bin'] = process.argv.slice(2);
const t = TARGETS[target];
if (!t) {
  console.error(`build-prebuilt: unknown target ${target}; one of ${Object.keys(TARGETS).join(', ')}`);
  process.exit(2);
}
const say = (msg) => console.log(`[@modnas/engine-native-${target}] ${msg}`);
const outDir = resolve(out);
mkdirSync(outDir, { recursive: true }); // listed in `files`: there even when empty
// Stale binaries (older sources, levels no longer built) must not ship.
for (const f of readdirSync(outDir)) if (f.endsWith('.node')) rmSync(join(outDir, f));
const version = compilerVersion(t.cxx);
if (!version) {
  const fix = target === 'linux-x64-gnu' ? 'apt-get install g++' : target === 'linux-arm64-gnu' ? 'apt-get install g++-aarch64-linux-gnu' : 'apt-get install mingw-w64';
  say(`skipped: ${t.cxx} not found (${fix}); this package is left without binaries on this machine`);
  process.exit(process.env.MODNAS_REQUIRE_CROSS === '1' ? 1 : 0);
}
for (const level of t.levels) {
  const t0 = Date.now();
  buildAddon({ target, level, outDir });
  say(`modnas_kernels.${level.isa}.node built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${version}, ${level.flags.join(' ')})`);
}
