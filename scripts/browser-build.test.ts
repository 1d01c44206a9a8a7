// The browser builds' rule (scripts/browser-build.mjs): `./x.js` becomes `./x.browser.ts` where that
// exists, and a Node module that still reaches the bundle fails it, naming the importer; and every
// package with a browser build has one that imports no Node module.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { browserModules } from './browser-build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modnas-browser-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (entry: string) => build({ entryPoints: [join(dir, entry)], bundle: true, write: false, format: 'esm', platform: 'browser', logLevel: 'silent', plugins: [browserModules()] });

describe('browser builds', () => {
  it('take a module\'s .browser.ts sibling, and refuse a Node module that reaches them', async () => {
    writeFileSync(join(dir, 'host.ts'), "import { hostname } from 'node:os';\nexport const host = () => hostname();\n");
    writeFileSync(join(dir, 'host.browser.ts'), "export const host = () => 'browser';\n");
    writeFileSync(join(dir, 'entry.ts'), "import { host } from './host.js';\nexport const where = host();\n");
    const ok = await bundle('entry.ts');
    expect(ok.outputFiles[0].text).toContain('"browser"');
    expect(ok.outputFiles[0].text).not.toContain('node:os');

    writeFileSync(join(dir, 'leak.ts'), "import { readFileSync } from 'fs';\nexport const read = (p: string) => readFileSync(p, 'utf8');\n");
    writeFileSync(join(dir, 'bad.ts'), "export { read } from './leak.js';\n");
    await expect(bundle('bad.ts')).rejects.toThrow(/fs \(a Node module\) reaches the browser build from .*leak\.ts/);
  });

  it('every package with a browser build (the `browser` condition) has one that imports no Node module', () => {
    const withBuild: string[] = [];
    for (const group of ['packages', 'plugins']) {
      for (const name of readdirSync(join(root, group))) {
        let pkg: { exports?: Record<string, { browser?: string }> };
        try {
          pkg = JSON.parse(readFileSync(join(root, group, name, 'package.json'), 'utf8')) as typeof pkg;
        } catch {
          continue;
        }
        const entry = pkg.exports?.['.']?.browser;
        if (!entry) continue;
        withBuild.push(`${group}/${name}`);
        const js = readFileSync(join(root, group, name, entry), 'utf8');
        expect(js, `${group}/${name}/${entry}`).not.toMatch(/from\s*["'](node:[\w/]+|fs|path|os|crypto|child_process|worker_threads|url|module|zlib)["']/);
      }
    }
    expect(withBuild.sort()).toEqual(['packages/config', 'packages/kit-estim', 'packages/kit-mixed-op', 'packages/model-export', 'packages/runtime', 'packages/services', 'plugins/dataset-mnist']);
  });
});
