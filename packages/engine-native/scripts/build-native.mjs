#!/usr/bin/env node
// Builds the engine's native kernels with the machine's C++ compiler and the N-API headers that
// ship with Node; nothing is downloaded. Runs at install (the package's `install` script) and in
// the workspace build:
//   native/modnas_kernels.node  the project's own kernels (src/native/own_conv.cc): needs only g++/clang
//   native/modnas_dnnl.node     oneDNN convolutions, only where libdnnl-dev is installed (optional)
// Never fails the install: where nothing compiles it says why, and the engine runs on its
// wasm/JavaScript kernels. MODNAS_ENGINE_KERNELS=js skips the build, MODNAS_ENGINE_NATIVE=0 skips
// the oneDNN addon only; CXX picks the compiler.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(pkg, 'src/native');
const outDir = join(pkg, 'native');
const say = (msg) => console.log(`[@modnas/engine-native] ${msg}`);

if (process.env.MODNAS_ENGINE_KERNELS === 'js') {
  say('native kernels skipped (MODNAS_ENGINE_KERNELS=js); the engine will use its wasm kernels');
  process.exit(0);
}

const nodeInc = [join(dirname(process.execPath), '../include/node'), '/usr/include/node', '/usr/local/include/node', process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include/node')]
  .filter(Boolean)
  .find((d) => existsSync(join(d, 'node_api.h')));
if (!nodeInc) {
  say("native kernels not built: Node's N-API headers (node_api.h) not found next to node; the engine will use its wasm kernels (slower training)");
  process.exit(0);
}
const dnnlInc = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'].find((d) => existsSync(join(d, 'oneapi/dnnl/dnnl.hpp')));
const cxx = process.env.CXX || 'c++';
const newest = (files) => Math.max(...files.map((f) => statSync(f).mtimeMs));
const sources = readdirSync(srcDir).map((f) => join(srcDir, f));

/** Compile one addon; flag sets from fastest to most portable (-march=native and OpenMP dropped where the compiler refuses them). */
function build(name, files, libs) {
  const out = join(outDir, `${name}.node`);
  if (existsSync(out) && statSync(out).mtimeMs > Math.max(newest(sources), statSync(fileURLToPath(import.meta.url)).mtimeMs)) {
    say(`${name} up to date`);
    return true;
  }
  const base = ['-O3', '-std=gnu++17', '-ffp-contract=fast', '-shared', '-fPIC', '-fvisibility=hidden', `-DNODE_GYP_MODULE_NAME=${name}`, `-I${nodeInc}`];
  if (process.platform === 'darwin') base.push('-undefined', 'dynamic_lookup');
  const variants = [
    ['-march=native', '-fopenmp'],
    ['-mcpu=native', '-fopenmp'],
    ['-fopenmp'],
    ['-march=native'],
    [],
  ];
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  let last = '';
  for (const extra of variants) {
    const t0 = Date.now();
    try {
      execFileSync(cxx, [...base, ...extra, ...files, '-o', tmp, ...libs], { stdio: ['ignore', 'ignore', 'pipe'] });
      renameSync(tmp, out);
      say(`${name} built in ${((Date.now() - t0) / 1000).toFixed(1)} s (${cxx} ${extra.join(' ') || 'portable flags'})`);
      return true;
    } catch (e) {
      last = String(e.stderr ?? e.message ?? e).split('\n').filter(Boolean).slice(0, 2).join(' | ');
      rmSync(tmp, { force: true });
    }
  }
  say(`${name} not built (${cxx} failed: ${last})`);
  return false;
}

const own = build('modnas_kernels', [join(srcDir, 'module.cc'), join(srcDir, 'own_conv.cc')], []);
if (!own) say('no native kernels: the engine will use its wasm kernels (slower training); install a C++ compiler (g++ or clang) and reinstall');
if (dnnlInc && process.env.MODNAS_ENGINE_NATIVE !== '0') build('modnas_dnnl', [join(srcDir, 'module.cc'), join(srcDir, 'dnnl_conv.cc')], ['-ldnnl']);
