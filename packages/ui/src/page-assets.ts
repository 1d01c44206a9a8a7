/** The page that build-page.mjs bundles into dist/page at package build time. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ModnasError } from '@modnas/core';

// dist/index.js finds ./page; the sources (tests) find ../dist/page
const DIRS = ['./page/', '../dist/page/'].map((d) => fileURLToPath(new URL(d, import.meta.url)));
const cache = new Map<string, string>();

export function pageAsset(name: 'index.html' | 'app.js' | 'app.css'): string {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  const dir = DIRS.find((d) => existsSync(d + name));
  if (!dir) {
    throw new ModnasError('MODNAS_E_UI_ASSETS', `the dashboard page (${name}) is missing from @modnas/ui (looked in ${DIRS.join(', ')})`, {
      fix: 'reinstall @modnas/ui, or in the workspace build it: pnpm turbo run build --filter @modnas/ui',
    });
  }
  const text = readFileSync(dir + name, 'utf8');
  cache.set(name, text);
  return text;
}
