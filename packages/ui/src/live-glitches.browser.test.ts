// The dashboard while experiments come and go, and its charts' small glitches, in Chromium against
// `modnas ui` (the installed command): experiments and runs written after the page opened show up
// without a reload, `modnas bench` repeats compare in one click, epochs count from 1 as the logs
// do, one epoch gets an axis around it, tick labels keep their digits, a run without epochs says
// so, and trials are numbered from 1 whichever stream recorded them.
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { chromium as pw } from 'playwright-core';
import { JournalStore } from '@modnas/store-journal';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireView } from './view.js';
import { meanStd } from './view.js';
import { ARGS, BIN, charts, chromium, chromiumPath, openFresh, skipReason, startUi } from '../test/browser.js';

const T0 = Date.parse('2026-01-01T10:00:00Z');

/** One run written into the journal store of `root/dir` (created if need be); `fill` appends its records. */
function writeRun(root: string, dir: string, id: string, status: 'done' | 'running', fill: (s: JournalStore) => void): void {
  mkdirSync(join(root, dir), { recursive: true });
  const s = new JournalStore(join(root, dir), dir);
  try {
    s.insertRun({
      id,
      experiment: dir,
      configHash: `hash-${id}`,
      config: { name: dir, optim: { type: 'RandomSearchOptim' } },
      status,
      start: new Date(T0).toISOString(),
      ...(status === 'done' ? { end: new Date(T0 + 60_000).toISOString() } : {}),
      heartbeat: new Date(status === 'done' ? T0 + 60_000 : Date.now()).toISOString(),
      pid: process.pid,
      host: hostname(),
      resumes: 0,
    });
    s.activate(id);
    fill(s);
  } finally {
    s.close();
  }
}

const epochs = (s: JournalStore, values: Array<Record<string, number>>): void => values.forEach((v, epoch) => s.append('metrics', { estim: 'search', epoch, epochs: values.length, ...v, time: new Date(T0 + epoch * 1000).toISOString() }));
/** Five subnet candidates (stream 'candidates', index from 0, as kit-estim records them). */
const candidates = (s: JournalStore): void => {
  for (let index = 0; index < 5; index++) s.append('candidates', { estim: 'search', index, arch: { op: `c${index}` }, status: 'done', score: 0.5 + index / 100, metrics: { acc: 0.5 + index / 100 } });
};
/** Five tabular queries (stream 'trials', query from 1, as kit-tabular records them). */
const queries = (s: JournalStore): void => {
  for (let query = 1; query <= 5; query++) s.append('trials', { estim: 'search', query, row: query * 7, arch: { op: `t${query}` }, fitness: 80 + query, cost: 20, sim_cost: query * 20 });
};

/** The values of one column of the trial table, found by its header's key. */
async function column(page: Page, key: string): Promise<string[]> {
  return page.$$eval(
    '#trials',
    (tables, k) => {
      const t = tables[0];
      const at = [...t.querySelectorAll('thead th')].findIndex((th) => th.getAttribute('data-key') === k);
      return [...t.querySelectorAll('tbody tr')].map((tr) => tr.querySelectorAll('td')[at]?.getAttribute('data-value') ?? '');
    },
    key,
  );
}

describe.skipIf(!chromium)(`dashboard: live experiments and chart glitches in Chromium${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'modnas-ui-live-'));
  let ui: { url: string; child: ChildProcess };
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    writeRun(root, 'first', 'r1', 'done', candidates);
    [ui, browser] = await Promise.all([startUi(root), pw.launch({ executablePath: chromiumPath, args: ARGS })]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    ui?.child.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  });

  it('an experiment and a run written after the page opened appear in the runs list without a reload, and the new run opens', async () => {
    await page.goto(ui.url);
    await page.waitForSelector('tr[data-run="first:r1"]');
    writeRun(root, join('late', 'exp'), 'r1', 'running', candidates);
    writeRun(root, 'first', 'r2', 'running', candidates);
    // the list refreshes itself every 5 s
    await page.waitForSelector('tr[data-run="late/exp:r1"]', { timeout: 12_000 });
    await page.waitForSelector('tr[data-run="first:r2"]', { timeout: 12_000 });
    await page.click('tr[data-run="late/exp:r1"] a[href*="#/run"]');
    await page.waitForSelector('#trials tbody tr');
    expect(await page.$$eval('#trials tbody tr', (r) => r.length)).toBe(5);
  });

  it('a run of an experiment the list has not seen yet opens at once (no 404 until the list is reloaded)', async () => {
    // on a run's page nothing lists the folder: the server must look again when asked for a new one
    await page.goto(`${ui.url}#/run?dir=first&run=r1`);
    await page.waitForSelector('#trials tbody tr');
    writeRun(root, 'fresh', 'r1', 'running', candidates);
    await new Promise((r) => setTimeout(r, 400));
    const res = await fetch(new URL('api/run?dir=fresh&run=r1', ui.url));
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as WireView).trials.n).toBe(5);
    // and the page of a run that appears while it is open: it looks again until the run is there
    await page.goto(`${ui.url}#/run?dir=fresher&run=r1`);
    await page.waitForSelector('p.error');
    writeRun(root, 'fresher', 'r1', 'running', candidates);
    await page.waitForSelector('#trials tbody tr', { timeout: 10_000 });
  });

  it('one epoch: the x axis is around epoch 1 (not 0-100); epochs count from 1 as the logs do', async () => {
    writeRun(root, 'one-epoch', 'r1', 'done', (s) => epochs(s, [{ loss: 0.5, acc: 0.8 }]));
    await page.goto(`${ui.url}#/run?dir=one-epoch&run=r1`);
    await page.waitForSelector('[data-chart="curves:search:loss"] canvas');
    const c = (await charts(page))['curves:search:loss'];
    expect(c.data[0]).toEqual([1]);
    const [min, max] = (c as unknown as { scales: Record<string, [number, number]> }).scales.x;
    expect(min).toBeLessThan(1);
    expect(max).toBeGreaterThan(1);
    expect(max - min).toBeLessThanOrEqual(2);
    expect((c as unknown as { ticks: { x: string[] } }).ticks.x).toEqual(['1']);
  });

  it('y tick labels keep enough digits to differ (0.0011-0.0014), large values are short; the epoch ticks start at 1', async () => {
    const vals = [0.0011, 0.0012, 0.0013, 0.0014];
    writeRun(root, 'tiny', 'r1', 'done', (s) => epochs(s, vals.map((grad_norm, i) => ({ grad_norm, loss: 1 - i / 10, params: 1_234_567 + i * 250_000 }))));
    await page.goto(`${ui.url}#/run?dir=tiny&run=r1`);
    await page.waitForSelector('[data-chart="curves:search:other"] canvas');
    const all = await charts(page);
    type Drawn = { data: number[][]; ticks: { x: string[]; y: string[] } };
    const other = all['curves:search:other'] as unknown as Drawn;
    expect(other.data[0]).toEqual([1, 2, 3, 4]);
    expect(Math.min(...other.ticks.x.map(Number))).toBeGreaterThanOrEqual(1);
    const loss = all['curves:search:loss'] as unknown as Drawn;
    expect(loss.ticks.y.length).toBeGreaterThanOrEqual(3);
    expect(new Set(loss.ticks.y).size).toBe(loss.ticks.y.length);
    // the tiny metric alone on its axis: one more run with only it
    writeRun(root, 'tiny', 'r2', 'done', (s) => epochs(s, vals.map((grad_norm) => ({ grad_norm }))));
    await openFresh(page, `${ui.url}#/run?dir=tiny&run=r2`);
    await page.waitForSelector('[data-chart="curves:search:other"] canvas');
    const y = ((await charts(page))['curves:search:other'] as unknown as Drawn).ticks.y;
    expect(y.length).toBeGreaterThanOrEqual(3);
    expect(new Set(y).size, y.join(', ')).toBe(y.length);
    for (const t of y) expect(Number(t)).toBeGreaterThan(0.001);
    // millions: short labels (1.5M), not 1,500,000 running into the axis title
    writeRun(root, 'tiny', 'r3', 'done', (s) => epochs(s, vals.map((_, i) => ({ params: 1_234_567 + i * 250_000 }))));
    await openFresh(page, `${ui.url}#/run?dir=tiny&run=r3`);
    await page.waitForSelector('[data-chart="curves:search:other"] canvas');
    const big = ((await charts(page))['curves:search:other'] as unknown as Drawn).ticks.y;
    expect(big.length).toBeGreaterThanOrEqual(3);
    for (const t of big) expect(t).toMatch(/^\d(\.\d+)?M$/);
    expect(new Set(big).size).toBe(big.length);
    // and 1e-7: its digits, not 0, 0, 0
    writeRun(root, 'tiny', 'r4', 'done', (s) => epochs(s, vals.map((_, i) => ({ grad_norm: 1.2e-7 + i * 1e-8 }))));
    await openFresh(page, `${ui.url}#/run?dir=tiny&run=r4`);
    await page.waitForSelector('[data-chart="curves:search:other"] canvas');
    const small = ((await charts(page))['curves:search:other'] as unknown as Drawn).ticks.y;
    expect(small.length).toBeGreaterThanOrEqual(3);
    expect(new Set(small).size, small.join(', ')).toBe(small.length);
    for (const t of small) expect(Number(t)).toBeGreaterThan(1e-7);
  });

  it('a finished tabular run does not wait for an epoch; trials are numbered from 1 in both streams', async () => {
    writeRun(root, 'tabular', 'r1', 'done', queries);
    await page.goto(`${ui.url}#/run?dir=tabular&run=r1`);
    await page.waitForSelector('#trials tbody tr');
    expect(await page.textContent('body')).not.toContain('no epoch finished yet');
    expect(await page.textContent('#no-epochs')).toBe('this run has no epochs (trials only)');
    expect(await column(page, 'index')).toEqual(['1', '2', '3', '4', '5']);
    // subnet candidates (index from 0 in the store)
    await openFresh(page, `${ui.url}#/run?dir=first&run=r1`);
    await page.waitForSelector('#trials tbody tr');
    expect(await column(page, 'index')).toEqual(['1', '2', '3', '4', '5']);
    expect(await page.textContent('body')).not.toContain('no epoch finished yet');
  });

  it('modnas bench --runs 3: its runs compare in one click, mean ± std of the best so far as meanStd gives it', async () => {
    const config = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'src', 'fixtures', 'bench-tabular.yaml');
    await page.goto(ui.url);
    await page.waitForSelector('tr[data-run="first:r1"]');
    // written while the list is open: it appears by itself
    await promisify(execFile)(process.execPath, [BIN, 'bench', config, '--runs', '3', '-q', '-o', `output_dir=${root}`, '-o', 'store.type=JournalStore', '-o', 'estim.search.max_queries=40', '-o', 'estim.search.time_budget=1000000000'], { env: { ...process.env, MODNAS_BACKEND: 'wasm' } });
    // (the list may have shown it with fewer runs while the command ran)
    const link = 'a.compare-all[data-compare="bench-tabular"]:has-text("compare all 3 runs")';
    await page.waitForSelector(link, { timeout: 12_000 });
    await page.click(link);
    await page.waitForSelector('[data-chart="compare:mean"]');
    const s = new JournalStore(join(root, 'bench-tabular'), 'bench-tabular', undefined, { readOnly: true });
    let best: number[][];
    try {
      expect(s.runs().map((r) => r.id)).toEqual(['r1', 'r2', 'r3']);
      best = s.runs().map((r) => {
        const f = s.records('trials', r.id).map((t) => t.record.fitness as number);
        return f.map((_, i) => Math.max(...f.slice(0, i + 1)));
      });
    } finally {
      s.close();
    }
    const c = await charts(page);
    expect(c['compare:best'].labels).toEqual(['bench-tabular r1', 'bench-tabular r2', 'bench-tabular r3']);
    const { mean, std } = meanStd(best);
    expect(c['compare:mean'].labels[0]).toBe('RandomSearchOptim mean (3 runs)');
    expect(c['compare:mean'].data[1]).toEqual(mean);
    expect(c['compare:mean'].data[2].map((v, i) => (v === null ? null : v - (mean[i] ?? 0)))).toEqual(std.map((x) => expect.closeTo(x ?? 0, 9)));
    // and in numbers, after the trials every run has
    const row = await page.$eval('#compare-summary tr[data-optim="RandomSearchOptim"] td[data-mean]', (td) => [td.getAttribute('data-mean'), td.getAttribute('data-std')]);
    expect(Number(row[0])).toBeCloseTo(mean[39] ?? NaN, 9);
    expect(Number(row[1])).toBeCloseTo(std[39] ?? NaN, 9);
  });
});
