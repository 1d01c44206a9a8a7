#!/usr/bin/env node
// The web example's server: node:http, no dependencies. It serves the page (index.html, app.js),
// the browser builds of TensorFlow.js and onnxruntime-web from node_modules, and one exported
// model folder, on 127.0.0.1 only. Every URL maps into one of those roots; a path that would leave
// its root (`..`, an encoded `%2e%2e` or `%2f`, a symbolic link pointing out) is refused with 403.
//
//   node examples/web/serve.mjs exp/quickstart-train/export [--port 8080]
//
// The model folder is the one `modnas export` wrote (tfjs/ and onnx/ in it), or the experiment
// folder whose export/ holds them.
import { existsSync, realpathSync, statSync, createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const USAGE = `Usage: node examples/web/serve.mjs <model-folder> [--port N]

Serves the web example on http://${HOST}:<port>/ with the model <model-folder> holds:
the folder "modnas export" wrote (tfjs/ and onnx/ in it, default <experiment>/export),
or the experiment folder itself.
  --port N   the port (default 8080; 0: any free port)`;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/** The dist/ folder of an installed package (found from this file, as node would). */
function packageDist(name) {
  const req = createRequire(import.meta.url);
  let dir;
  try {
    dir = dirname(req.resolve(`${name}/package.json`));
  } catch {
    // packages whose "exports" hide package.json: walk up from the entry point
    try {
      dir = dirname(req.resolve(name));
    } catch (e) {
      throw new Error(`${name} is not installed next to ${HERE} (${e.message.split('\n')[0]}): run "npx -y pnpm@9.15.9 install" in the repository`);
    }
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  }
  return join(dir, 'dist');
}

/** The folder with tfjs/ and/or onnx/ from what the user passed. */
export function resolveModelFolder(arg) {
  const dir = resolve(arg);
  const holdsModels = (d) => existsSync(join(d, 'tfjs', 'modnas.json')) || existsSync(join(d, 'onnx', 'modnas.json'));
  if (holdsModels(dir)) return dir;
  if (holdsModels(join(dir, 'export'))) return join(dir, 'export');
  const hint = existsSync(join(dir, 'modnas.json')) ? `${dir} is one format's folder: pass its parent, ${dirname(dir)}` : `${dir} holds no tfjs/modnas.json or onnx/modnas.json`;
  throw new Error(`${hint}. Export a trained experiment first (modnas export <experiment-dir> --format both; in this repository: node packages/cli/dist/bin.js export ...), then pass <experiment-dir>/export`);
}

/**
 * The server's routes: URL prefix -> folder (every file below it), and single files. Folders are
 * compared by their real path, so a symbolic link inside a root that points elsewhere is refused.
 */
export function makeRoutes(modelDir) {
  const real = (p) => realpathSync(p);
  return {
    files: new Map([
      ['/', join(HERE, 'index.html')],
      ['/index.html', join(HERE, 'index.html')],
      ['/app.js', join(HERE, 'app.js')],
    ]),
    dirs: [
      ['/vendor/tfjs/', real(packageDist('@tensorflow/tfjs'))],
      ['/vendor/tfjs-backend-wasm/', real(packageDist('@tensorflow/tfjs-backend-wasm'))],
      ['/vendor/onnxruntime-web/', real(packageDist('onnxruntime-web'))],
      ['/model/', real(modelDir)],
    ],
  };
}

/** The file a URL path names, or an HTTP status saying why not (403 outside the roots, 404 absent). */
export function lookup(routes, rawPath) {
  let path;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return { status: 400 };
  }
  if (path.includes('\0')) return { status: 400 };
  const single = routes.files.get(path);
  if (single) return existsSync(single) ? { file: single } : { status: 404 };
  for (const [prefix, root] of routes.dirs) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    // join, never resolve: "/model//etc/passwd" must stay below the root
    const file = join(root, rest);
    const rel = relative(root, file);
    if (rel === '') return { status: 404 };
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return { status: 403 };
    if (!existsSync(file)) return { status: 404 };
    const target = realpathSync(file);
    if (target !== root && !target.startsWith(root + sep)) return { status: 403 };
    if (!statSync(target).isFile()) return { status: 404 };
    return { file: target };
  }
  return { status: 404 };
}

export function startServer({ model, port = 8080, routes = makeRoutes(model) }) {
  const server = createServer((req, res) => {
    const headers = {
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      // cross-origin isolation: lets onnxruntime-web and tfjs' wasm backend use threads
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
      return;
    }
    const rawPath = (req.url ?? '/').split('?')[0].split('#')[0];
    const hit = lookup(routes, rawPath);
    if (!hit.file) {
      res.writeHead(hit.status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`${hit.status}\n`);
      return;
    }
    const size = statSync(hit.file).size;
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(hit.file)] ?? 'application/octet-stream', 'Content-Length': size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(hit.file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, HOST, () => {
      const addr = server.address();
      ok({ server, url: `http://${HOST}:${typeof addr === 'object' && addr ? addr.port : port}/` });
    });
  });
}

async function main() {
  let args;
  try {
    args = parseArgs({ allowPositionals: true, options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    console.error(`${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  if (args.positionals.length !== 1) {
    console.error(`${args.positionals.length ? 'one model folder expected' : 'no model folder given'}\n\n${USAGE}`);
    process.exit(2);
  }
  const port = args.values.port === undefined ? 8080 : Number(args.values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port must be an integer from 0 to 65535, got ${args.values.port}`);
    process.exit(2);
  }
  let model;
  let routes;
  try {
    model = resolveModelFolder(args.positionals[0]);
    routes = makeRoutes(model);
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
  try {
    const { url } = await startServer({ model, port, routes });
    console.log(`modnas web example: ${url} (model: ${model}); Ctrl-C stops it`);
  } catch (e) {
    console.error(`error: cannot serve on ${HOST}:${port}: ${e.message}${e.code === 'EADDRINUSE' ? ' (the port is taken: pass --port with another, or 0 for any free one)' : ''}`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
