/**
 * One headless Chromium per process for the browser targets (started on first use, shared by
 * every metric and table of a run, closed by closeRuntimes()). Playwright's request routing serves
 * the page, the runtimes' browser builds from node_modules and the networks from memory, on an
 * origin that never reaches the network.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join } from 'node:path';
import { ModnasError } from '@modnas/core';
import { toOnnx, toTfjs } from '@modnas/model-export';
import { PAGE_HTML } from './page.js';
import type { LatencyTarget, Net, RuntimeInfo } from './runtimes.js';
import { importFor, machineOf, nchw } from './runtimes.js';
import type { Timing } from './timing.js';

const ORIGIN = 'http://modnas-latency.invalid';
/** A page being timed must not be treated as a background tab (lower CPU priority, throttled timers). */
const TIMING_ARGS = ['--disable-renderer-backgrounding', '--disable-background-timer-throttling', '--disable-backgrounding-occluded-windows', '--disable-ipc-flooding-protection'];
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html', '.bin': 'application/octet-stream', '.onnx': 'application/octet-stream' };

/** Packages each browser target loads in the page: [package, its folder of browser builds]. */
const VENDOR: Record<string, { pkg: string; dist: string; targets: LatencyTarget[] }> = {
  tfjs: { pkg: '@tensorflow/tfjs', dist: 'dist', targets: ['tfjs-wasm', 'tfjs-webgl'] },
  'tfjs-backend-wasm': { pkg: '@tensorflow/tfjs-backend-wasm', dist: 'dist', targets: ['tfjs-wasm'] },
  'onnxruntime-web': { pkg: 'onnxruntime-web', dist: 'dist', targets: ['onnxruntime-web'] },
};

/** A package's root folder, found from any file it resolves to (some export no package.json). */
function packageRoot(pkg: string): string | undefined {
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    return undefined;
  }
  for (let d = dirname(entry); d !== dirname(d); d = dirname(d)) {
    const pj = join(d, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === pkg) return d;
  }
  return undefined;
}

function vendorDir(name: string, target: LatencyTarget): string {
  const v = VENDOR[name];
  const root = packageRoot(v.pkg);
  if (!root) throw new ModnasError('MODNAS_E_LATENCY_RUNTIME', `latency target ${target} needs the package ${v.pkg}, which is not installed`, { fix: `npm i ${v.pkg}`, where: 'metrics.*.target' });
  return join(root, v.dist);
}

interface PwPage {
  route(url: string, handler: (route: PwRoute) => Promise<void>): Promise<void>;
  goto(url: string): Promise<unknown>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
}
interface PwRoute {
  request(): { url(): string };
  fulfill(r: { status: number; contentType?: string; body?: Buffer | string }): Promise<void>;
}
interface PwBrowser {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
  version(): string;
}
interface Playwright {
  chromium: { launch(o: { executablePath?: string; args: string[]; headless: boolean }): Promise<PwBrowser> };
}

declare const window: { modnasLatency: { info(target: string, threads: number): Promise<string>; measure(target: string, url: string, dims: number[], t: Timing, threads: number): Promise<number[]> } };

export class BrowserHost {
  private readonly nets = new Map<string, Buffer>();
  private seq = 0;
  private readonly infos = new Map<string, Promise<RuntimeInfo>>();
  /** One page per target, so that one runtime's state (a WebGL context, wasm threads) does not slow another's. */
  private readonly pages = new Map<LatencyTarget, Promise<PwPage>>();

  constructor(private readonly browser: PwBrowser) {}

  private page(target: LatencyTarget): Promise<PwPage> {
    let p = this.pages.get(target);
    if (!p) {
      p = (async () => {
        const page = await this.browser.newPage();
        await page.route(`${ORIGIN}/**`, (route) => this.serve(route));
        await page.goto(`${ORIGIN}/`);
        return page;
      })();
      this.pages.set(target, p);
    }
    return p;
  }

  static async start(executable: string | undefined): Promise<BrowserHost> {
    const pw = await importFor<Playwright>('playwright-core', 'a browser target (tfjs-wasm, tfjs-webgl, onnxruntime-web)');
    const path = executable ?? process.env.MODNAS_CHROMIUM ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
    let browser: PwBrowser;
    try {
      // SwiftShader only where no GPU is usable: WebGL then runs on the CPU, as in a VM's browser
      browser = await pw.chromium.launch({ executablePath: path, headless: true, args: ['--no-sandbox', '--ignore-gpu-blocklist', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run', ...TIMING_ARGS] });
    } catch (e) {
      throw new ModnasError('MODNAS_E_LATENCY_BROWSER', `Chromium did not start for the browser latency targets${path ? ` (${path})` : ''}: ${(e as Error).message.split('\n')[0]}`, {
        fix: 'install Chromium (apt-get install chromium, or npx playwright install chromium) or point metrics.*.browser or MODNAS_CHROMIUM at its executable',
        where: 'metrics.*.browser',
        cause: e,
      });
    }
    return new BrowserHost(browser);
  }

  private async serve(route: PwRoute): Promise<void> {
    const path = new URL(route.request().url()).pathname;
    const notFound = () => route.fulfill({ status: 404, body: 'not found' });
    if (path === '/' || path === '/index.html') return route.fulfill({ status: 200, contentType: 'text/html', body: PAGE_HTML });
    const net = this.nets.get(path);
    if (net) return route.fulfill({ status: 200, contentType: TYPES[extname(path)] ?? 'application/octet-stream', body: net });
    const m = /^\/vendor\/([a-z-]+)\/([A-Za-z0-9._-]+)$/.exec(path);
    const v = m ? VENDOR[m[1]] : undefined;
    if (!m || !v) return notFound();
    const root = packageRoot(v.pkg);
    const file = root ? join(root, v.dist, basename(m[2])) : '';
    if (!file || !existsSync(file)) return notFound();
    return route.fulfill({ status: 200, contentType: TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) });
  }

  info(target: LatencyTarget, threads: number): Promise<RuntimeInfo> {
    const key = `${target}|${threads}`;
    let p = this.infos.get(key);
    if (!p) {
      this.checkVendor(target);
      p = this.page(target)
        .then((page) => page.evaluate(([t, n]) => window.modnasLatency.info(t, n), [target, threads] as [string, number]))
        .then((runtime) => ({ target, runtime, machine: machineOf() }));
      this.infos.set(key, p);
    }
    return p;
  }

  private checkVendor(target: LatencyTarget): void {
    for (const [name, v] of Object.entries(VENDOR)) if (v.targets.includes(target)) vendorDir(name, target);
  }

  /** Serve the network's files for one measurement, time it in the page, forget the files. */
  async measure(target: LatencyTarget, net: Net, t: Timing, threads: number): Promise<number[]> {
    this.checkVendor(target);
    const dir = `/net/${++this.seq}`;
    const served: string[] = [];
    const add = (name: string, data: Uint8Array | string) => {
      this.nets.set(`${dir}/${name}`, Buffer.from(data));
      served.push(`${dir}/${name}`);
    };
    let url: string;
    let dims: number[];
    if (target === 'onnxruntime-web') {
      add('model.onnx', toOnnx(net.graph));
      url = `${ORIGIN}${dir}/model.onnx`;
      dims = nchw(net.inputShape, t.batch_size);
    } else {
      const m = toTfjs(net.graph);
      add('model.json', JSON.stringify(m.modelJson));
      for (const s of m.shards) add(s.name, s.data);
      url = `${ORIGIN}${dir}/model.json`;
      dims = [t.batch_size, ...net.inputShape];
    }
    try {
      const page = await this.page(target);
      return await page.evaluate(([tg, u, d, tm, n]) => window.modnasLatency.measure(tg, u, d, tm, n), [target, url, dims, t, threads] as [string, string, number[], Timing, number]);
    } finally {
      for (const p of served) this.nets.delete(p);
    }
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}

let host: Promise<BrowserHost> | undefined;

/** The process's Chromium, started on first use. */
export function openBrowser(executable: string | undefined): Promise<BrowserHost> {
  if (!host) {
    host = BrowserHost.start(executable);
    host.catch(() => (host = undefined));
  }
  return host;
}

export async function closeBrowser(): Promise<void> {
  const h = host;
  host = undefined;
  if (h) await (await h.catch(() => undefined))?.close();
}
