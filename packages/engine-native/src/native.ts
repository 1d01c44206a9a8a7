import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The native addon (src/native: module.cc + kernels.cc + own_conv.cc or dnnl_conv.cc): prebuilt in
 * the platform package (@modnas/engine-native-<platform>, scripts/build-prebuilt.mjs), else built
 * here once by scripts/build-native.mjs. One build per ISA level; the baseline's cpu() picks one.
 */
/** Every tensor is passed as a Float32Array over its data (a wasm heap view or the tensor's own array); the kernels run in place. */
export interface NativeKernels {
  /** kind 0: c = conv(x = a, w = b); 1: c = dx from (dy = a, w = b); 2: c = dw from (x = a, dy = b). p = [N, C, H, W, O, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups]. */
  conv(kind: number, a: Float32Array, b: Float32Array, c: Float32Array, p: Int32Array): void;
  /** Training batch norm over the last axis of an [m, c] view: y, batch mean, biased batch variance. */
  bnForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, m: number, c: number, eps: number): void;
  /** Its gradient w.r.t. x, gamma and beta. */
  bnBackward(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, variance: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, m: number, c: number, eps: number): void;
  /** dx = dy where 0 < x <= 6, else 0. */
  relu6Grad(dy: Float32Array, x: Float32Array, dx: Float32Array, n: number): void;
  /** Eval-mode batch norm over the last axis. */
  bnInfer(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null, y: Float32Array, m: number, c: number, eps: number): void;
  /** y = min(max(x, 0), 6). */
  relu6(x: Float32Array, y: Float32Array, n: number): void;
  /** c = big op small (op 0 add, 1 sub, 2 mul, 3 div), big as [outer, mid, inner], small as [outer, inner]; swap: c = small op big. */
  binary(op: number, big: Float32Array, small: Float32Array, c: Float32Array, outer: number, mid: number, inner: number, swap: boolean): void;
  /** y[o, i] = mean or sum of x[o, :, i] over an [outer, mid, inner] view. */
  reduceMid(x: Float32Array, y: Float32Array, outer: number, mid: number, inner: number, mean: boolean): void;
  /** An uninitialised external ArrayBuffer from the addon's caching allocator. */
  alloc(bytes: number): ArrayBuffer;
  /** Detach a buffer from alloc() and return its block to the pool now; false if it is not one. */
  release(buf: ArrayBuffer): boolean;
  poolInfo(): { liveBytes: number; pooledBytes: number };
  info(): { version: string; cacheEntries: number; threads: number; isa: string };
  /** The best ISA level this processor runs: avx512, avx2, x86-64 (x86-64) or neon (arm64). */
  cpu(): string;
  /** The OpenMP threads of kernels called from this thread from now on (per calling thread). */
  setThreads(n: number): void;
}

/** Which kernels run the convolutions: the project's own (default), oneDNN, or none (wasm/JavaScript). */
export type KernelChoice = 'own' | 'dnnl' | 'js';

export interface NativeStatus {
  loaded: boolean;
  /** What the kernels run on ("own kernels (AVX-512, 2 threads)", "oneDNN 2.7.3"), or why no addon is in use. */
  detail: string;
  choice: KernelChoice;
  kernels?: NativeKernels;
  /** The ISA level of the loaded build (avx512, avx2, x86-64, neon) and where it came from (a package name, or the folder of a local build). */
  isa?: string;
  source?: string;
  /** The addon file loaded (a worker_thread requires it to share the kernels). */
  file?: string;
}

const require = createRequire(import.meta.url);
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const say = (msg: string): void => void process.stderr.write(`[@modnas/engine-native] ${msg}\n`);

/** ISA levels, best first, and the baseline of each architecture (the build every processor of it runs). */
const LEVELS = ['avx512', 'avx2', 'x86-64', 'neon', 'generic'];
const baseLevel = (arch = process.arch): string => (arch === 'x64' ? 'x86-64' : arch === 'arm64' ? 'neon' : 'generic');

/** The platform package that carries prebuilt kernels for this machine (as scripts/compile.mjs' TARGETS), or undefined. */
export function prebuiltPackage(platform = process.platform, arch = process.arch): string | undefined {
  if (platform === 'linux') {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    if (!header?.glibcVersionRuntime) return undefined;
    if (arch === 'x64' || arch === 'arm64') return `@modnas/engine-native-linux-${arch}-gnu`;
  }
  if (platform === 'win32' && arch === 'x64') return '@modnas/engine-native-win32-x64';
  return undefined;
}

/**
 * Load the best build in dir that this processor runs: the baseline first, whose cpu() names the
 * best level; MODNAS_ENGINE_ISA=<level> caps it (a lower level, for comparisons). undefined where
 * dir has no baseline build.
 */
function loadFrom(dir: string, env: NodeJS.ProcessEnv): { kernels: NativeKernels; isa: string; file: string } | undefined {
  const file = (isa: string): string => join(dir, `modnas_kernels.${isa}.node`);
  const base = baseLevel();
  if (!existsSync(file(base))) return undefined;
  const baseline = require(file(base)) as NativeKernels;
  const cap = env.MODNAS_ENGINE_ISA?.toLowerCase();
  if (cap !== undefined && !LEVELS.includes(cap)) throw new Error(`MODNAS_ENGINE_ISA=${cap} is not one of ${LEVELS.join(', ')}`);
  const from = Math.max(LEVELS.indexOf(baseline.cpu()), cap ? LEVELS.indexOf(cap) : 0);
  const isa = LEVELS.slice(from, LEVELS.indexOf(base)).find((l) => existsSync(file(l))) ?? base;
  return { kernels: isa === base ? baseline : (require(file(isa)) as NativeKernels), isa, file: file(isa) };
}

/** The C++ compiler a first-use build would run (CXX, else c++, g++, clang++), or undefined. */
function findCompiler(env: NodeJS.ProcessEnv): string | undefined {
  for (const cxx of env.CXX ? [env.CXX] : ['c++', 'g++', 'clang++']) {
    try {
      execFileSync(cxx, ['--version'], { stdio: 'ignore', env });
      return cxx;
    } catch {
      /* not there */
    }
  }
  return undefined;
}

/** Where a local build goes: the package's native/ folder, else (read-only install) node_modules/.cache/modnas. */
function localDirs(): string[] {
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
  return [join(pkgDir, 'native'), join(process.cwd(), 'node_modules/.cache/modnas', `engine-native-${version}-${process.platform}-${process.arch}`)];
}
const writable = (dir: string): boolean => {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The project's own kernels: the platform package's, a local build, or a build made now where a
 * compiler is on PATH (said once on stderr); else why not, with the fix. Exported for tests.
 */
export function loadOwn(env: NodeJS.ProcessEnv, prebuilt: string | null = prebuiltPackage() ?? null, dirs = localDirs()): NativeStatus {
  const choice = 'own';
  const ok = (r: { kernels: NativeKernels; isa: string; file: string }, source: string): NativeStatus => ({ loaded: true, choice, kernels: r.kernels, isa: r.isa, source, file: r.file, detail: r.kernels.info().version });
  // MODNAS_ENGINE_ADDON=<file.node>: exactly that build (bench/engine/dispatch.mjs compares a -march=native one).
  if (env.MODNAS_ENGINE_ADDON) {
    const kernels = require(env.MODNAS_ENGINE_ADDON) as NativeKernels;
    return ok({ kernels, isa: kernels.info().isa, file: env.MODNAS_ENGINE_ADDON }, env.MODNAS_ENGINE_ADDON);
  }
  let prebuiltError = '';
  if (prebuilt) {
    try {
      const dir = join(dirname(require.resolve(`${prebuilt}/package.json`)), 'bin');
      const r = loadFrom(dir, env);
      if (r) return ok(r, prebuilt);
      prebuiltError = `${prebuilt} is installed but holds no kernels (${dir} is empty)`;
    } catch (e) {
      const msg = String((e as Error)?.message ?? e).split('\n')[0];
      prebuiltError = (e as { code?: string })?.code === 'MODULE_NOT_FOUND' ? `${prebuilt} is not installed` : `${prebuilt} failed to load: ${msg}`;
    }
  }
  for (const dir of dirs) {
    const r = loadFrom(dir, env);
    if (r) return ok(r, dir);
  }
  const why = prebuilt ? prebuiltError : `no prebuilt kernels are published for ${process.platform}-${process.arch}`;
  const cxx = env.MODNAS_ENGINE_BUILD === '0' ? undefined : findCompiler(env);
  if (cxx) {
    const dir = dirs.find(writable);
    if (dir) {
      say(`${why}: compiling the native kernels once with ${cxx} into ${dir} (about 20 s)`);
      try {
        execFileSync(process.execPath, [join(pkgDir, 'scripts/build-native.mjs'), dir], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, CXX: cxx } });
        const r = loadFrom(dir, env);
        if (r) return ok(r, dir);
      } catch {
        /* build-native.mjs said why on stderr */
      }
      const fix = prebuilt ? `npm i ${prebuilt}` : 'a compiler that builds them (CXX=<g++ or clang++>), then npx modnas plugins doctor';
      return { loaded: false, choice, detail: `no native kernels: ${why}, and building them with ${cxx} failed (its error is in the log above); fix: ${fix}` };
    }
  }
  const fix = prebuilt ? `npm i ${prebuilt} (npm leaves it out with --omit=optional or a lockfile made on another platform)` : 'install a C++ compiler (g++ or clang), then run npx modnas plugins doctor';
  return { loaded: false, choice, detail: `no native kernels: ${why}${cxx === undefined && env.MODNAS_ENGINE_BUILD !== '0' ? ' and no C++ compiler is on PATH to build them' : ''}; fix: ${fix}` };
}

/**
 * MODNAS_ENGINE_KERNELS=own|dnnl|js picks the kernels (MODNAS_ENGINE_NATIVE=0 only turns oneDNN off);
 * MODNAS_ENGINE_ISA caps the ISA level, MODNAS_ENGINE_BUILD=0 turns the first-use build off.
 */
export function kernelChoice(env: NodeJS.ProcessEnv = process.env): KernelChoice {
  const v = (env.MODNAS_ENGINE_KERNELS ?? 'own').toLowerCase();
  if (v === 'dnnl' && env.MODNAS_ENGINE_NATIVE === '0') return 'own';
  if (v === 'own' || v === 'dnnl' || v === 'js') return v;
  throw new Error(`@modnas/engine-native: MODNAS_ENGINE_KERNELS=${v} is not one of own, dnnl, js`);
}

let status: NativeStatus | undefined;

/** Load the chosen addon once. */
export function loadNative(env: NodeJS.ProcessEnv = process.env): NativeStatus {
  if (status) return status;
  const choice = kernelChoice(env);
  if (choice === 'js') return (status = { loaded: false, choice, detail: 'native kernels turned off (MODNAS_ENGINE_KERNELS=js)' });
  // The kernels run on OpenMP: threads that sleep when idle leave the core to the wasm kernels
  // running between native calls on the main thread.
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
  try {
    if (choice === 'own') return (status = loadOwn(env));
    const file = join(pkgDir, 'native/modnas_dnnl.node');
    if (!existsSync(file))
      return (status = { loaded: false, choice, detail: 'the oneDNN kernels were not built (needs libdnnl-dev: apt-get install libdnnl-dev, then npm run build:native in @modnas/engine-native)' });
    const kernels = require(file) as NativeKernels;
    return (status = { loaded: true, choice, detail: kernels.info().version, kernels, isa: kernels.info().isa, source: file, file });
  } catch (e) {
    return (status = { loaded: false, choice, detail: `native kernels failed to load: ${String((e as Error)?.message ?? e).split('\n')[0]}` });
  }
}
