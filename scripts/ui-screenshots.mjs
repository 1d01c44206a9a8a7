#!/usr/bin/env node
// Screenshots of the dashboard's views for packages/ui/README.md, taken from real runs (issue 24).
//   node scripts/ui-screenshots.mjs [--keep | --from <folder>]
// Needs the build (`npx -y pnpm@9.15.9 build`: packages/cli/dist and packages/ui/dist/page) and
// Chromium (/usr/bin/chromium, or MODNAS_TEST_CHROMIUM=<path>). It runs five small searches with the
// built `modnas` command in a temporary folder (3 to 4 min on 2 cores, nearly all of it the
// quickstart's ProxylessNAS search, shortened, and the latency Pareto search), serves that folder with `modnas ui`, opens each view in
// headless Chromium 1280 px wide and REWRITES packages/ui/screenshots/: every PNG there is removed and
// one PNG per view is written, clipped to that view's section. The PNGs are re-encoded with 256
// colours by sharp (a dependency of @modnas/kit-image), about 3 times smaller; without it they stay
// as Chromium wrote them. --keep leaves the temporary folder (its path is printed); --from <that
// folder> takes the screenshots again from its runs without running them (seconds, after a change
// of the page).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { clearTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'packages', 'cli', 'dist', 'bin.js');
const PAGE = join(root, 'packages', 'ui', 'dist', 'page', 'app.js');
const OUT = join(root, 'packages', 'ui', 'screenshots');
const NB201 = 'bench/nas-bench-201/configs';
const WIDTH = 1280;
/** Page background kept around each view (CSS pixels). */
const MARGIN = 8;
/** Above this a PNG is flagged: the README loads every one. */
const MAX_BYTES = 250 * 1024;

function fail(message) {
  console.error(`ui-screenshots: ${message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const fromAt = args.indexOf('--from');
const from = fromAt >= 0 ? args[fromAt + 1] : undefined;
const unknown = args.filter((a, i) => a !== '--keep' && a !== '--from' && !(fromAt >= 0 && i === fromAt + 1));
if (unknown.length) fail(`unknown argument ${unknown[0]}\n  usage: node scripts/ui-screenshots.mjs [--keep | --from <folder an earlier --keep printed>]`);
if (fromAt >= 0 && !(from && existsSync(join(from, 'exp')))) fail(`--from ${from ?? ''}: give the folder an earlier run with --keep printed (it holds exp/)`);

// what is needed, checked before anything runs
if (!existsSync(BIN)) fail(`no built CLI at ${relative(root, BIN)}: run \`npx -y pnpm@9.15.9 build\` first`);
if (!existsSync(PAGE)) fail(`no built dashboard page at ${relative(root, PAGE)}: run \`npx -y pnpm@9.15.9 build\` first`);
const chromiumPath = process.env.MODNAS_TEST_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromiumPath)) fail(`no Chromium at ${chromiumPath}: install it (apt-get install chromium) or set MODNAS_TEST_CHROMIUM=<path to the browser>`);
let chromium;
try {
  ({ chromium } = createRequire(join(root, 'packages', 'ui', 'package.json'))('playwright-core'));
} catch (e) {
  fail(`playwright-core (a devDependency of @modnas/ui) cannot be loaded: ${e.message}\n  run \`npx -y pnpm@9.15.9 install\` first`);
}
let sharp;
try {
  sharp = createRequire(join(root, 'packages', 'kit-image', 'package.json'))('sharp');
} catch (e) {
  console.warn(`ui-screenshots: sharp cannot be loaded (${e.message.split('\n')[0]}): the PNGs stay as Chromium writes them, about 3 times larger`);
}

const tmp = from ?? mkdtempSync(join(tmpdir(), 'modnas-ui-screenshots-'));
const exp = join(tmp, 'exp');
const staged = join(tmp, 'png');
rmSync(staged, { recursive: true, force: true });
mkdirSync(staged);

/** The real runs, in the order they are made. */
const RUNS = [
  {
    name: 'proxylessnas',
    what: 'the quickstart search (ProxylessNAS, BinaryGate, MNIST) on 4,096 training images',
    args: ['run', 'examples/quickstart/search.yaml', '--output-dir', exp, '--name', 'proxylessnas', '-o', 'data_provider.train_size=4096', '-o', 'estim.warmup.epochs=2', '-o', 'estim.search.epochs=3', '-q'],
  },
  {
    // 200 queries a seed: the parallel coordinates of 500 are a solid block of lines
    name: 'nb201-random',
    what: 'random search on NAS-Bench-201, 3 seeds of 200 queries',
    args: ['bench', `${NB201}/nb201.yaml`, `${NB201}/rs.yaml`, '--runs', '3', '-q', '-o', `output_dir=${exp}`, '-o', 'name=nb201-random', '-o', 'estim.search.record_trials=true', '-o', 'estim.search.max_queries=200', '-o', 'estim.search.time_budget=1000000000'],
  },
  {
    name: 'nb201-rea',
    what: "regularized evolution on NAS-Bench-201 (the paper's 12,000 s budget)",
    args: ['run', `${NB201}/nb201.yaml`, `${NB201}/rea.yaml`, '--output-dir', exp, '--name', 'nb201-rea', '-o', 'estim.search.record_trials=true', '-q'],
  },
  {
    name: 'macro-pareto',
    what: 'NSGA-II (score and params) on NAS-Bench-Macro, 300 queries',
    args: ['run', `${NB201}/macro.yaml`, `${NB201}/pareto.yaml`, '--output-dir', exp, '--name', 'macro-pareto', '-o', 'estim.search.record_trials=true', '-o', 'estim.search.max_queries=300', '-q'],
  },
  {
    // 1.5 min; needs playwright-core and onnxruntime-web (the workspace has both) and the Chromium above
    name: 'pareto-latency',
    what: 'SPOS + NSGA-II on the quickstart space, accuracy against latency in onnxruntime-web in Chromium (examples/quickstart/pareto-latency.yaml)',
    args: ['run', 'examples/quickstart/pareto-latency.yaml', '--output-dir', exp, '-q'],
  },
];
const [QUICKSTART, NB201_RANDOM, NB201_REA, MACRO, LATENCY] = RUNS;

function makeRuns() {
  for (const r of RUNS) {
    const t0 = performance.now();
    const res = spawnSync(process.execPath, [BIN, ...r.args], { cwd: root, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`the run ${r.name} failed (exit ${res.status ?? res.signal}): modnas ${r.args.join(' ')}\n${res.stderr}${res.stdout}`);
    console.log(`run ${r.name}: ${r.what} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
}

/** `modnas ui <folder> --port 0`, and the URL it prints. */
function startUi(folder) {
  const child = spawn(process.execPath, [BIN, 'ui', folder, '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise((ok, no) => {
    const timer = setTimeout(() => no(new Error(`modnas ui printed no URL in 30 s:\n${out}`)), 30_000);
    const on = (d) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      no(new Error(`modnas ui exited with ${code}:\n${out}`));
    });
  });
  return { child, url };
}

/** name -> [bytes, caption], in the order taken. */
const taken = new Map();

/**
 * One view: the box around `parts` (the first one's top to the last one's bottom, all of them
 * visible), with MARGIN of page around it, clipped from the page in document coordinates (nothing
 * scrolls, so a hovered point keeps its tooltip).
 */
async function shot(page, name, caption, ...parts) {
  const boxes = [];
  for (const part of parts) {
    await part.first().waitFor({ state: 'visible', timeout: 15_000 });
    const b = await part.first().boundingBox();
    if (!b) throw new Error(`the screenshot ${name}: a part of it has no box on the page`);
    boxes.push(b);
  }
  const [sx, sy] = await page.evaluate('[window.scrollX, window.scrollY]');
  const x0 = Math.max(0, Math.min(...boxes.map((b) => b.x)) - MARGIN);
  const y0 = Math.max(0, Math.min(...boxes.map((b) => b.y)) - MARGIN);
  const x1 = Math.min(WIDTH, Math.max(...boxes.map((b) => b.x + b.width)) + MARGIN);
  const y1 = Math.max(...boxes.map((b) => b.y + b.height)) + MARGIN;
  const png = await page.screenshot({ clip: { x: x0 + sx, y: y0 + sy, width: x1 - x0, height: y1 - y0 }, fullPage: true, animations: 'disabled', caret: 'hide' });
  const path = join(staged, `${name}.png`);
  writeFileSync(path, sharp ? await sharp(png).png({ palette: true, quality: 90, compressionLevel: 9, effort: 10 }).toBuffer() : png);
  taken.set(name, [statSync(path).size, caption]);
}

/** Open a route of the page and wait until `selector` is there (the view's data fetched and drawn). */
async function open(page, base, hash, selector) {
  await page.goto(`${base}#${hash}`);
  try {
    await page.locator(selector).first().waitFor({ state: 'visible', timeout: 15_000 });
  } catch (e) {
    const shown = (await page.locator('#app').textContent().catch(() => '')) ?? '';
    throw new Error(`#${hash}: ${selector} did not appear in 15 s (${e.message.split('\n')[0]}); the page shows: ${shown.slice(0, 300)}`);
  }
}

const runHash = (dir, run) => `/run?dir=${encodeURIComponent(dir)}&run=${encodeURIComponent(run)}`;
const sectionTitled = (page, title) => page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: title, exact: true }) });

/** Where a chart's data point is on screen: from the plot's box and the scales the chart recorded (window.__modnasCharts). */
async function pointOnScreen(page, chart, i) {
  const box = await page.locator(`.chart[data-chart="${chart}"] .u-over`).boundingBox();
  const c = await page.evaluate(`window.__modnasCharts[${JSON.stringify(chart)}]`);
  if (!box || !c?.scales?.x || !c.scales.y) throw new Error(`the chart ${chart} has no plot or no scales recorded`);
  const [x0, x1] = c.scales.x;
  const [y0, y1] = c.scales.y;
  return { x: box.x + ((c.data[0][i] - x0) / (x1 - x0)) * box.width, y: box.y + (1 - (c.data[1][i] - y0) / (y1 - y0)) * box.height };
}

/** The Pareto scatter `chart` scrolled into view with a point of its front hovered (near the knee): its section and where the point is. */
async function hoverFront(page, chart) {
  const section = sectionTitled(page, 'Score against cost, Pareto front');
  await section.locator(`.chart[data-chart="${chart}"] canvas`).waitFor();
  await section.locator(`.chart[data-chart="${chart}"]`).scrollIntoViewIfNeeded();
  const c = await page.evaluate(`window.__modnasCharts[${JSON.stringify(chart)}]`);
  const front = c.data[2].flatMap((v, i) => (v === null ? [] : [i]));
  if (front.length === 0) throw new Error(`the Pareto scatter ${chart} marks no front`);
  const i = front[Math.floor(front.length * 0.4)]; // near the knee, with front points either side
  const at = await pointOnScreen(page, chart, i);
  await page.mouse.move(at.x, at.y);
  const tip = section.locator(`.chart[data-chart="${chart}"] .pareto-tip`);
  await tip.waitFor({ state: 'visible' });
  if (!/on the Pareto front/.test((await tip.textContent()) ?? '')) throw new Error(`the hovered point of ${chart} is not the front point aimed at: ${await tip.textContent()}`);
  return { section, at };
}

async function screenshots(base) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  const problems = [];
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 }, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC' });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
    });
    const nRuns = RUNS.length + 2; // the bench makes three runs of one experiment

    // the runs list, every run in it
    await open(page, base, '/', '#runs');
    // (a selector, not a predicate: the page's Content-Security-Policy refuses the eval a predicate needs)
    await page.locator(`#runs tbody tr:nth-child(${nRuns})`).waitFor({ timeout: 15_000 });
    await shot(page, 'runs', `the runs list: the ${nRuns} runs of the experiments below`, page.locator('section').filter({ has: page.locator('#runs') }));

    // the quickstart run: its facts, curves and best score so far
    await open(page, base, runHash('proxylessnas', 'r1'), '#facts');
    await shot(page, 'run', `${QUICKSTART.what}: the run's facts, loss and accuracy per estimator and epoch, best score so far`, page.locator('#app > h1'), sectionTitled(page, 'Best score so far'));

    // its α: heatmaps per mixed op and epoch, entropy per op
    const alpha = page.locator('section').filter({ has: page.locator('#alpha') });
    await alpha.scrollIntoViewIfNeeded();
    await shot(page, 'alpha', `${QUICKSTART.what}: softmax(α) per mixed op and epoch, and its entropy`, alpha);

    // an NB201 seed: the analysis (importance, parallel coordinates, score per choice)
    await open(page, base, runHash('nb201-random', 'r1'), '#analysis .slice canvas');
    await shot(page, 'analysis', `${NB201_RANDOM.what}, the first seed: how much of the score's variance each edge's op explains, parallel coordinates`, page.locator('#analysis > h2'), page.locator('#analysis .parallel'));
    await shot(page, 'slices', `${NB201_RANDOM.what}, the first seed: the score per op of each edge`, page.locator('#analysis > h3'), page.locator('#analysis .slices'));

    // the cell the evolution found, drawn on the graph NAS-Bench-201 declares
    await open(page, base, runHash('nb201-rea', 'r1'), '.arch-dag svg');
    await shot(page, 'cell', `${NB201_REA.what}: the cell it found, drawn as a DAG`, sectionTitled(page, 'Architecture found'));

    // the three seeds side by side, by the runs list's link
    await open(page, base, '/', '.compare-all[data-compare="nb201-random"]');
    await page.locator('.compare-all[data-compare="nb201-random"]').click();
    await page.locator('.chart[data-chart="compare:mean"] canvas').waitFor({ timeout: 15_000 });
    await shot(page, 'compare', `${NB201_RANDOM.what}, side by side: best score so far per seed, mean ± std`, page.locator('#app > h1'), page.locator('#app > .grid'));

    // NAS-Bench-Macro: the trial table, filtered and sorted by score
    await open(page, base, runHash('macro-pareto', 'r1'), '#trials tbody tr');
    const filter = 'score>92 and params<1.5e6';
    await page.locator('#trial-filter').fill(filter);
    await page.locator('#trials th[data-key="score"]').click();
    await page.locator('#trials th[data-key="score"][data-sorted="desc"]').waitFor();
    const count = (await page.locator('#trial-count').textContent()) ?? '';
    if (!/^\s*\d+ of 300 trials/.test(count) || (await page.locator('#trial-filter-error').isVisible())) throw new Error(`the filter "${filter}" was not applied: ${count}`);
    await page.locator('#trial-filter').blur();
    await shot(page, 'trials', `${MACRO.what}: the trial table filtered by \`${filter}\` and sorted by score`, sectionTitled(page, 'Trials'));

    // its Pareto scatter, a point of the front hovered
    const { section: pareto, at } = await hoverFront(page, 'pareto:params');
    await shot(page, 'pareto', `${MACRO.what}: score against params and against flops, the Pareto front in red, a trial of the front hovered`, pareto);

    // clicked: the trial's panel
    await page.mouse.click(at.x, at.y);
    const panel = page.locator('#trial-detail:not([hidden])');
    await panel.locator('.blocks').waitFor();
    await page.mouse.move(0, 0);
    await panel.scrollIntoViewIfNeeded();
    await shot(page, 'trial', `${MACRO.what}: that trial, clicked in the scatter: its score, metrics and network`, panel);

    // accuracy against browser latency, a point of the front hovered
    await open(page, base, runHash('pareto-latency', 'r1'), '#trials tbody tr');
    const latency = await hoverFront(page, 'pareto:latency');
    await shot(page, 'pareto-latency', `${LATENCY.what}: score against latency (ms), the front in red, a trial of the front hovered`, latency.section.locator('.chart[data-chart="pareto:latency"]'));
  } finally {
    await browser.close();
  }
  if (problems.length) throw new Error(`the page reported:\n  ${problems.join('\n  ')}`);
}

const t0 = performance.now();
let ui;
try {
  if (!from) makeRuns();
  ui = startUi(exp);
  await screenshots(await ui.url);
  mkdirSync(OUT, { recursive: true });
  for (const f of readdirSync(OUT)) if (f.endsWith('.png')) rmSync(join(OUT, f));
  for (const [name, [bytes, caption]] of taken) {
    copyFileSync(join(staged, `${name}.png`), join(OUT, `${name}.png`));
    const png = readFileSync(join(OUT, `${name}.png`));
    const size = `${png.readUInt32BE(16)}×${png.readUInt32BE(20)}`;
    console.log(`${relative(root, join(OUT, `${name}.png`))}: ${size}, ${(bytes / 1024).toFixed(0)} KiB${bytes > MAX_BYTES ? ' (large)' : ''}: ${caption}`);
  }
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
} catch (e) {
  console.error(`ui-screenshots: ${e.message}\n  (${relative(root, OUT)} is as it was)`);
  process.exitCode = 1;
} finally {
  ui?.child.kill('SIGTERM');
  ui?.url.catch(() => undefined);
  if (from) rmSync(staged, { recursive: true, force: true });
  else if (keep) console.log(`the runs are kept in ${tmp}: --from ${tmp} takes the screenshots again from them; node ${relative(process.cwd(), BIN)} ui ${exp} shows them`);
  else rmSync(tmp, { recursive: true, force: true });
}
