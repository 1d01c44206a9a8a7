#!/usr/bin/env node
// The README's picture of the page (screenshot.png): builds it, runs the CI test's short search
// (?budget=test) in headless Chromium on WebGPU (SwiftShader without a GPU; about a minute on 2
// cores) and shoots the page when it is done, 1000 px wide, re-encoded with 256 colours by sharp.
//   node examples/browser-search/screenshot.mjs   (Chromium: /usr/bin/chromium or MODNAS_TEST_CHROMIUM)
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ORIGIN, WEBGPU_ARGS, buildPage, routeDist } from './build.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), 'screenshot.png');
await buildPage();
const browser = await chromium.launch({ executablePath: process.env.MODNAS_TEST_CHROMIUM || '/usr/bin/chromium', headless: true, args: WEBGPU_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  await routeDist(page);
  await page.goto(`${ORIGIN}/?budget=test&autostart=1`);
  await page.waitForFunction(() => ['done', 'error'].includes(globalThis.modnasSearch?.status ?? ''), null, { timeout: 600_000, polling: 500 });
  const status = await page.evaluate(() => globalThis.modnasSearch.status);
  if (status !== 'done') throw new Error(`the search ended in ${status}: ${await page.evaluate(() => JSON.stringify(globalThis.modnasSearch.error))}`);
  const png = await page.screenshot({ fullPage: true });
  let bytes = png;
  try {
    const sharp = (await import('sharp')).default;
    bytes = await sharp(png).png({ palette: true, colours: 256 }).toBuffer();
  } catch {
    // without sharp the PNG stays as Chromium wrote it
  }
  writeFileSync(out, bytes);
  console.log(`${out}: ${(bytes.length / 1024).toFixed(0)} kB`);
} finally {
  await browser.close();
}
