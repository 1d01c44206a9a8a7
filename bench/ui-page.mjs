#!/usr/bin/env node
// The dashboard's page on a large run (issue 24, "100,000 trials live"): a real NAS-Bench-201
// search of 100,000 queries (regularized evolution on the shipped table, every query recorded in
// the SQLite store: seconds to make) opened by `modnas ui` (the real command, a child process) in
// headless Chromium (Playwright). Measured, `--reps` times each on one warm page:
// - first view: from navigating to the run's URL until the run view is drawn (the trial table's first
//   row, every chart and the analysis section present), then one animation frame;
// - sorting: from the click on the score header until the table's first row is the best trial;
// - filtering: from typing `score>X` until the count line says how many trials are left.
// The targets are 2 s for the first view and 500 ms for a sort on this machine; the numbers
// are absolute (no other dashboard runs here to compare with).
// Usage: node bench/ui-page.mjs [--trials 100000] [--reps 5] [--keep] [--write]
//   Needs a build (pnpm build) and Chromium (apt-get install chromium, or MODNAS_TEST_CHROMIUM).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSection } from './sections.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values } = parseArgs({ options: { trials: { type: 'string', default: '100000' }, reps: { type: 'string', default: '5' }, keep: { type: 'boolean', default: false }, write: { type: 'boolean', default: false } } });
const TRIALS = Number(values.trials);
const REPS = Number(values.reps);
const BIN = join(root, 'packages/cli/dist/bin.js');
const CHROMIUM = process.env.MODNAS_TEST_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(BIN)) throw new Error(`no ${BIN}: run pnpm build first`);
if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set MODNAS_TEST_CHROMIUM`);
const { chromium } = createRequire(join(root, 'packages/ui/package.json'))('playwright-core');

const work = mkdtempSync(join(tmpdir(), 'modnas-ui-page-'));
const cfg = join(work, 'nb201.yaml');
writeFileSync(
  cfg,
  `name: nb201-big
output_dir: ${JSON.stringify(join(work, 'exp'))}
seed: 0
space: { type: NASBench201Space, dataset: cifar10 }
optim: { type: RegularizedEvolutionOptim }
estim:
  search: { type: NASBench201Estimator, time_budget: 1.0e15, max_queries: ${TRIALS} }
`,
);
const t0 = performance.now();
const made = spawnSync(process.execPath, [BIN, 'run', cfg], { encoding: 'utf8' });
if (made.status !== 0) throw new Error(`modnas run failed (${made.status}): ${made.stderr}\n${made.stdout}`);
const makeS = (performance.now() - t0) / 1000;
const dbBytes = statSync(join(work, 'exp', 'nb201-big', 'modnas.db')).size;

/** Start `modnas ui <folder> --port 0` and read its URL. */
function startUi(folder) {
  const child = spawn(process.execPath, [BIN, 'ui', folder, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((ok, fail) => {
    let out = '';
    const on = (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) ok({ url: m[1], child });
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => fail(new Error(`modnas ui exited with ${code}: ${out}`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ui = await startUi(join(work, 'exp'));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
const runsList = await (await page.request.get(new URL('api/experiments', ui.url).href)).json();
const run = runsList[0].runs[0];
const runUrl = `${ui.url}#/run?dir=${encodeURIComponent(runsList[0].dir)}&run=${encodeURIComponent(run.id)}`;
const frame = () => page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');

const first = [];
const analysis = [];
const sort = [];
const filter = [];
let rows = 0;
let best = null;
/** When the page marked the run view, then its analysis section, drawn (ms after navigation). */
const marks = async () => Object.fromEntries(await page.evaluate(`performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])`));
for (let i = 0; i < REPS; i++) {
  await page.goto('about:blank');
  await page.goto(runUrl);
  await page.waitForSelector('#importance', { timeout: 60_000 });
  await frame();
  const m = await marks();
  first.push(m['modnas:run-drawn']);
  analysis.push(m['modnas:analysis-drawn']);
  rows = await page.$$eval('#trials tbody tr[data-trial]', (r) => r.length);
  if (best === null) best = Math.max(...(await page.evaluate('window.__modnasCharts["best:trials"].data[1].filter((v) => v !== null)')));
  // sort by score (descending on the first click)
  const b = performance.now();
  await page.click('#trials th[data-key="score"]');
  await page.waitForSelector(`#trials tbody tr[data-trial]:first-child td[data-value="${best}"]`, { timeout: 60_000 });
  sort.push(performance.now() - b);
  const c = performance.now();
  await page.fill('#trial-filter', `score>${(best - 0.5).toFixed(3)}`);
  await page.waitForSelector('#trial-count:not(:empty)', { timeout: 60_000 });
  await frame();
  filter.push(performance.now() - c);
  await page.fill('#trial-filter', '');
}
// (after the opens: this request would have read the store for the first one)
const wireBytes = (await (await page.request.get(new URL(`api/run?dir=${encodeURIComponent(runsList[0].dir)}&run=${encodeURIComponent(run.id)}`, ui.url).href)).body()).length;
await browser.close();
ui.child.kill('SIGTERM');
if (!values.keep) rmSync(work, { recursive: true, force: true });

const ms = (xs) => `${median(xs).toFixed(0)} ms (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`;
// the first open reads the store (the server keeps the run's view after it); the others are warm
const warm = (xs) => xs.slice(1);
const result = {
  trials: TRIALS,
  make_s: makeS,
  db_mb: dbBytes / 2 ** 20,
  first_ms: first,
  analysis_ms: analysis,
  sort_ms: sort,
  filter_ms: filter,
  rows_in_dom: rows,
  page_errors: errors,
};
console.log(JSON.stringify(result, null, 1));
if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
if (values.write) {
  const body = `## The dashboard page on ${TRIALS.toLocaleString('en')} trials (issue 24)

\`node bench/ui-page.mjs --write\` (${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores shared, load ${loadavg()[0].toFixed(1)} at the end; Chromium headless, software rendering).
A real NAS-Bench-201 search of ${TRIALS.toLocaleString('en')} queries (regularized evolution, every query recorded: ${makeS.toFixed(1)} s, a ${(dbBytes / 2 ** 20).toFixed(0)} MB SQLite store), opened by \`modnas ui\` in Chromium; median of ${REPS} on one page:

| what | target | measured |
| --- | --- | --- |
| first view drawn, opened as soon as \`modnas ui\` prints its URL (the server reads the newest runs' records in the background from its start; the page waits for that read of 100,000 records) | under 2 s | ${first[0].toFixed(0)} ms |
| first view drawn, opened again (the server's view of the run is kept, brought up to date from new records) | under 2 s | ${ms(warm(first))} |
| the analysis section drawn too (importance, parallel coordinates, slices), opened again | — | ${ms(warm(analysis))} |
| sort the trial table by score | under 500 ms | ${ms(sort)} |
| filter \`score>X\` | — | ${ms(filter)} |

"First view drawn": from navigation to the page's \`modnas:run-drawn\` mark (header, curves, best-so-far charts and the trial table built; the analysis follows after that frame, \`modnas:analysis-drawn\`). The run's JSON is ${(wireBytes / 2 ** 20).toFixed(1)} MB (trials packed a column per field).
The table keeps ${rows} of the ${TRIALS.toLocaleString('en')} rows in the page (virtualised). Sort and filter times are taken in the test driver (Playwright), so each includes one round trip to the browser.`;
  console.log(`wrote ${writeSection('ui-page', body)}`);
}
