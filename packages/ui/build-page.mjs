// Bundles the dashboard page (page/app.ts + uPlot) into dist/page at package build time, so the
// installed package serves finished files and needs no bundler or charting library at run time.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist', 'page');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'page', 'app.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  legalComments: 'eof',
  logLevel: 'warning',
});
const uplotCss = join(dirname(createRequire(import.meta.url).resolve('uplot')), 'uPlot.min.css');
// uPlot's styles, then the page's: app.css first, then each view's own stylesheet (page/<view>.css)
const sheets = ['app.css', ...readdirSync(join(here, 'page')).filter((f) => f.endsWith('.css') && f !== 'app.css').sort()];
writeFileSync(join(out, 'app.css'), [readFileSync(uplotCss, 'utf8'), ...sheets.map((f) => readFileSync(join(here, 'page', f), 'utf8'))].join('\n'));
copyFileSync(join(here, 'page', 'index.html'), join(out, 'index.html'));
const kb = (f) => (statSync(join(out, f)).size / 1024).toFixed(1);
console.log(`page: dist/page/app.js ${kb('app.js')} KiB, app.css ${kb('app.css')} KiB`);
