/**
 * The browser tests' page host: bundles a test page with esbuild and opens it in headless Chromium
 * with WebGPU on (SwiftShader where there is no GPU), served through Playwright's routing from a
 * made-up https origin (WebGPU needs a secure context): no port, no server.
 */
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { chromium as pw } from 'playwright-core';
import { chromiumPath } from '../../../test/chromium.js';

export { chromium as hasChromium, required, skipReason } from '../../../test/chromium.js';
export const ORIGIN = 'https://modnas-webgpu.test';

declare const window: object;

export interface TestPage {
  browser: Browser;
  page: Page;
}

/**
 * Opens the page bundled from `entry`, once `global` is set on its window. `files` are served at
 * their paths (the page fetches them), `alias` maps imports for the bundle.
 */
export async function openTestPage(entry: string, global: string, opts: { alias?: Record<string, string>; files?: Record<string, Buffer> } = {}): Promise<TestPage> {
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent', alias: opts.alias });
  const js = bundle.outputFiles[0].text;
  const browser = await pw.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'] });
  const page = await browser.newPage();
  await page.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/page.js') return route.fulfill({ status: 200, contentType: 'text/javascript', body: js });
    const file = opts.files?.[path];
    if (file) return route.fulfill({ status: 200, contentType: 'application/octet-stream', body: file });
    return path === '/' ? route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><script type="module" src="/page.js"></script>' }) : route.fulfill({ status: 404, body: 'not found' });
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction((g) => g in window, global, { timeout: 30_000 }).catch((e: Error) => {
    throw new Error(`the test page did not load: ${errors.join('; ') || e.message}`);
  });
  return { browser, page };
}
