// How the engine's native code is compiled, in one place: for which targets, with which compiler
// and flags, into which files. Used by build-prebuilt.mjs (the per-platform packages' binaries, in
// CI and the workspace build), build-native.mjs (a local build where no prebuilt package fits),
// the kernel harness test and bench/engine/dispatch.mjs. Nothing is downloaded: N-API's headers
// ship with Node, and Windows' import library for node.exe is generated here with dlltool.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const srcDir = join(pkgDir, 'src/native');

/** x86-64 ISA levels, best first; `x86-64` is the baseline every x86-64 processor runs and the build whose cpu() picks one. */
const X64_LEVELS = [
  { isa: 'avx512', flags: ['-march=x86-64-v4', '-mtune=generic'] },
  { isa: 'avx2', flags: ['-march=x86-64-v3', '-mtune=generic'] },
  { isa: 'x86-64', flags: ['-march=x86-64', '-mtune=generic'] },
];

/**
 * The platforms with a prebuilt package (@modnas/engine-native-<key>): the compiler that builds
 * them here (Debian's cross compilers), the ISA levels, and the addon file extension.
 */
export const TARGETS = {
  'linux-x64-gnu': { cxx: 'g++', arch: 'x64', levels: X64_LEVELS, exe: '' },
  'linux-arm64-gnu': { cxx: 'aarch64-linux-gnu-g++', arch: 'arm64', levels: [{ isa: 'neon', flags: ['-march=armv8-a'] }], exe: '', runner: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'] },
  // -muse-unaligned-vector-move: mingw's stack is only 16-byte aligned, so AVX spills must not use aligned moves (GCC bug 54412).
  'win32-x64': { cxx: 'x86_64-w64-mingw32-g++', arch: 'x64', levels: X64_LEVELS, exe: '.exe', runner: ['wine'], extra: ['-Wa,-muse-unaligned-vector-move', '-static'] },
};

/** The prebuilt target of this process's platform (undefined where none is published, e.g. musl, macOS). */
export function hostTarget(platform = process.platform, arch = process.arch) {
  if (platform === 'linux' && !isMusl()) return arch === 'x64' ? 'linux-x64-gnu' : arch === 'arm64' ? 'linux-arm64-gnu' : undefined;
  if (platform === 'win32' && arch === 'x64') return 'win32-x64';
  return undefined;
}

function isMusl() {
  const report = process.report?.getReport();
  return !(report && typeof report === 'object' && report.header?.glibcVersionRuntime);
}

/** Whether a compiler runs; its `--version` first line, or undefined. */
export function compilerVersion(cxx) {
  try {
    return execFileSync(cxx, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0];
  } catch {
    return undefined;
  }
}

/** Node's N-API headers (node_api.h), next to this node or where npm_config_nodedir points. */
export function nodeInclude() {
  return [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node'), join(dirname(process.execPath), '../include/node'), '/usr/include/node', '/usr/local/include/node']
    .filter(Boolean)
    .find((d) => existsSync(join(d, 'node_api.h')));
}

const COMMON = ['-O3', '-std=gnu++17', '-ffp-contract=fast', '-fvisibility=hidden'];
const KERNELS = ['kernels.cc', 'own_conv.cc'];

/** The napi_* functions module.cc calls, read from its source (Windows links them from node.exe through an import library). */
function napiImportLib(cxx, outDir) {
  const names = [...new Set(readFileSync(join(srcDir, 'module.cc'), 'utf8').match(/\bnapi_[a-z0-9_]+(?=\()/g))].filter((n) => n !== 'napi_module_register').sort();
  const def = join(outDir, 'node.def');
  writeFileSync(def, `LIBRARY node.exe\nEXPORTS\n${names.join('\n')}\n`);
  const lib = join(outDir, 'libnode.dll.a');
  execFileSync(cxx.replace(/g\+\+$/, 'dlltool'), ['-d', def, '-l', lib], { stdio: ['ignore', 'ignore', 'pipe'] });
  rmSync(def);
  return lib;
}

/** Run the compiler; throws with its first error lines. */
function cc(cxx, args) {
  try {
    execFileSync(cxx, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = String(e.stderr ?? e.message ?? e).split('\n').filter((l) => /error|not found|No such/i.test(l));
    throw new Error(`${cxx} failed: ${(err.length ? err : [String(e.message)]).slice(0, 3).join(' | ')}`);
  }
}

/**
 * Compile the addon of one ISA level into outDir/modnas_kernels.<isa>.node (atomically). flags
 * override the level's (bench: ['-march=native'] into modnas_kernels.native.node).
 */
export function buildAddon({ target, level, outDir, cxx = TARGETS[target].cxx, flags, name = `modnas_kernels.${level.isa}`, openmp = true }) {
  const t = TARGETS[target] ?? { extra: [] };
  const inc = nodeInclude();
  if (!inc) throw new Error("Node's N-API headers (node_api.h) were not found next to node; set npm_config_nodedir to a Node install with include/node");
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${name}.node`);
  const tmp = `${out}.${process.pid}.tmp`;
  const args = [...COMMON, ...(flags ?? level.flags), ...(t.extra ?? []), '-shared', `-DNODE_GYP_MODULE_NAME=${name.replace(/\W/g, '_')}`, `-I${inc}`];
  if (target !== 'win32-x64') args.push('-fPIC');
  if (process.platform === 'darwin' && !target) args.push('-undefined', 'dynamic_lookup');
  if (openmp) args.push('-fopenmp');
  const files = ['module.cc', ...KERNELS].map((f) => join(srcDir, f));
  const libs = target === 'win32-x64' ? [napiImportLib(cxx, outDir)] : [];
  try {
    cc(cxx, [...args, ...files, '-o', tmp, ...libs]);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
    for (const l of libs) rmSync(l, { force: true });
  }
  return out;
}

/** Compile the kernel harness (harness.cc, no N-API) of one ISA level into outDir/harness.<isa>[.exe]. */
export function buildHarness({ target, level, outDir, cxx = TARGETS[target].cxx }) {
  const t = TARGETS[target];
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `harness.${level.isa}${t.exe}`);
  cc(cxx, [...COMMON, ...level.flags, ...(t.extra ?? []), '-fopenmp', ...['harness.cc', ...KERNELS].map((f) => join(srcDir, f)), '-o', out]);
  return out;
}
