/**
 * What the dashboard's browser tests share: where Chromium is, its flags, starting `modnas ui` (the
 * installed command, as a child process) and reading what the page's charts were given. Outside CI
 * the browser tests skip when no Chromium is found; with MODNAS_REQUIRE_SERVICES=1 (.ci/run) a
 * missing Chromium fails (ui.browser.test.ts holds that check, once).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
/** The installed `modnas` command (the cli package's build). */
export const BIN = join(here, '..', '..', 'cli', 'dist', 'bin.js');
export { chromium, chromiumPath, required, skipReason } from '../../../test/chromium.js';
// rebind.modnas.test resolves to this machine, as an attacker's name does after DNS rebinding
export const REBIND = 'rebind.modnas.test';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--host-resolver-rules=MAP ${REBIND} 127.0.0.1`];

/** Start `modnas ui <folder> --port 0` and read the URL it prints. */
export async function startUi(folder: string, extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'ui', folder, '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`modnas ui printed no URL in 30 s: ${out}`)), 30_000);
    const on = (d: Buffer): void => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(t);
        ok(m[1]);
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => fail(new Error(`modnas ui exited with ${code}: ${out}`)));
  });
  return { url, child };
}

export type ChartData = Record<string, { labels: string[]; data: Array<Array<number | null>> }>;
// (expressions as strings: test files are compiled without the DOM types, they run in the page)
export const charts = (page: Page): Promise<ChartData> => page.evaluate('window.__modnasCharts');

/**
 * Opens a view by loading the page afresh. A goto that changes only the hash keeps the previous
 * view's elements until the new one is drawn, so a waitForSelector could find the old chart.
 */
export async function openFresh(page: Page, url: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(url);
}
