// The Pareto scatter you can click, in Chromium: hovering names the nearest trial, clicking opens it
// (#trial-detail, reachable by its URL), any two metrics as the axes with the front recomputed for
// them, and the same click in the `modnas report --html` file opened from disk. The store is written
// here: 50 trials with flops, params and latency whose fronts the test knows independently.
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JournalStore } from '@modnas/store-journal';
import type { Browser, Page } from 'playwright-core';
import { chromium as pw } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paretoFront } from './view.js';
import { ARGS, BIN, charts, chromium, chromiumPath, skipReason, startUi } from '../test/browser.js';

interface T {
  id: number;
  pos: number;
  score: number | null;
  status: string;
  arch: Record<string, string>;
  metrics: Record<string, number>;
}
const CANDS = ['MB3E3', 'MB5E6', 'NIL'];
const N = 50;

/**
 * 50 trials: flops rise with the trial (1M, 2M, ...), params and latency are two permutations of
 * evenly spaced values, the score a slow rise plus a deterministic wave (11 trials on its front against flops); the last two failed (no score, but measured).
 */
function writeStore(folder: string): T[] {
  mkdirSync(folder, { recursive: true });
  const s = new JournalStore(folder, 'nas');
  const t0 = Date.parse('2026-01-01T10:00:00Z');
  s.insertRun({ id: 'r1', experiment: 'nas', configHash: 'h', config: { name: 'nas', optim: { type: 'RandomSearchOptim' } }, status: 'done', start: new Date(t0).toISOString(), end: new Date(t0 + 60_000).toISOString(), heartbeat: new Date(t0 + 60_000).toISOString(), pid: process.pid, host: hostname(), resumes: 0 });
  s.activate('r1');
  s.append('slots', {
    estim: 'search',
    slots: [
      { path: 'cells.0.op', chnIn: 8, chnOut: 16, stride: 2, param: 't_0', candidates: CANDS },
      { path: 'cells.1.op', chnIn: 16, chnOut: 16, stride: 1, param: 't_1', candidates: CANDS },
    ],
  });
  for (let i = 0; i < N; i++) {
    const failed = i >= N - 2;
    const metrics = { flops: 1e6 * (i + 1), params: 1000 + ((i * 37) % N) * 200, latency: 2 + ((i * 13) % N) * 0.25 };
    const score = Math.round((0.5 + (0.15 * i) / N + 0.25 * Math.abs(Math.sin(i * 1.7))) * 1e4) / 1e4;
    s.append('candidates', { estim: 'search', index: i, arch: { t_0: CANDS[i % 3], t_1: CANDS[(i * 2) % 3] }, status: failed ? 'failed' : 'done', ...(failed ? {} : { score }), metrics, seconds: 1 + i / 10, time: new Date(t0 + 1000 * (i + 1)).toISOString() });
  }
  const trials = s.records('candidates', 'r1').map((r, pos) => ({ id: r.id, pos: pos + 1, ...(r.record as Omit<T, 'id' | 'pos' | 'score'>), score: (r.record.score as number | undefined) ?? null }));
  s.close();
  return trials;
}

/** As the page writes a number (page/dom.ts fmt). */
const fmt = (v: number | null): string => (v === null ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(4));

type Chart = { labels: string[]; data: Array<Array<number | null>>; scales: Record<string, [number, number]> };
const chart = async (page: Page, name: string): Promise<Chart> => (await charts(page))[name] as unknown as Chart;
/** The points the chart marks as its front, as "x:y". */
const marked = (c: Chart): Set<string> => new Set(c.data[0].flatMap((x, i) => (c.data[2][i] === null ? [] : [`${x}:${c.data[2][i]}`])));

/** Where data points are on the screen: from the plot's box and the scales the chart recorded. */
async function screen(page: Page, name: string): Promise<(x: number, y: number) => { px: number; py: number }> {
  const over = page.locator(`.chart[data-chart="${name}"] .u-over`);
  await over.scrollIntoViewIfNeeded();
  const box = (await over.boundingBox())!;
  const { scales } = await chart(page, name);
  const [x0, x1] = scales.x;
  const [y0, y1] = scales.y;
  return (x, y) => ({ px: box.x + ((x - x0) / (x1 - x0)) * box.width, py: box.y + (1 - (y - y0) / (y1 - y0)) * box.height });
}

describe.skipIf(!chromium)(`the Pareto scatter you can click${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'modnas-ui-pareto-'));
  let trials: T[];
  let ui: { url: string; child: ChildProcess };
  let browser: Browser;
  let page: Page;
  const refused: string[] = [];
  const byFlops = (x: number): T => trials.find((t) => t.metrics.flops === x)!;
  const scored = (): T[] => trials.filter((t) => t.score !== null);

  beforeAll(async () => {
    trials = writeStore(join(root, 'nas'));
    [ui, browser] = await Promise.all([startUi(root), pw.launch({ executablePath: chromiumPath, args: ARGS })]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    ui?.child.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  });

  it('marks the front of score against flops: each trial that scores higher than every cheaper one', async () => {
    await page.goto(`${ui.url}#/run?dir=nas&run=r1`);
    await page.waitForSelector('.chart[data-chart="pareto:flops"] canvas');
    // flops rise with the trial, so the front is the running record of the score
    let best = -Infinity;
    const records = scored().filter((t) => (t.score! > best ? ((best = t.score!), true) : false));
    const c = await chart(page, 'pareto:flops');
    expect(marked(c)).toEqual(new Set(records.map((t) => `${t.metrics.flops}:${t.score}`)));
    expect(records.length).toBe(11);
    expect(c.data[0]).toEqual(scored().map((t) => t.metrics.flops));
    expect(await page.$$eval('.pareto[data-panel="pareto:flops"] select[data-axis="x"] option', (os) => os.map((o) => o.getAttribute('value')))).toEqual(['score', 'flops', 'latency', 'params']);
  });

  it('hovering a point names that trial and its metrics, the nearest point and not the nearest in x', async () => {
    const name = 'pareto:flops';
    const c = await chart(page, name);
    const xs = c.data[0] as number[];
    const front = xs.map((_, i) => i).filter((i) => c.data[2][i] !== null);
    // a front point whose right neighbour is nearer in x to a spot just right of it, but far in y
    const at = await screen(page, name);
    const pxs = xs.map((x, i) => at(x, c.data[1][i]!));
    const i = front.find((k) => k + 1 < xs.length && Math.abs(pxs[k + 1].py - pxs[k].py) > 25 && pxs[k + 1].px - pxs[k].px < 14 && pxs[k + 1].px - pxs[k].px > 4)!;
    expect(i, 'a front point with a close neighbour in x').toBeDefined();
    const t = byFlops(xs[i]);
    const spot = { px: pxs[i].px + 0.65 * (pxs[i + 1].px - pxs[i].px), py: pxs[i].py };
    await page.mouse.move(spot.px, spot.py);
    const tip = page.locator(`.chart[data-chart="${name}"] .pareto-tip`);
    await expect.poll(() => tip.getAttribute('data-trial')).toBe(String(t.id));
    expect(await tip.isVisible()).toBe(true);
    const text = (await tip.textContent())!;
    expect(text).toContain(`#${t.pos}`);
    expect(text).toContain(`score ${fmt(t.score)}`);
    for (const [k, v] of Object.entries(t.metrics)) expect(await tip.locator(`[data-metric="${k}"]`).textContent()).toBe(`${k} ${fmt(v)}`);
    expect(text).toContain('on the Pareto front');
    // it follows the cursor
    const box = (await tip.boundingBox())!;
    expect(Math.min(Math.abs(box.x - spot.px), Math.abs(box.x + box.width - spot.px))).toBeLessThan(30);

    // the neighbour, then nothing: away from every point the tooltip goes
    const u = byFlops(xs[i + 1]);
    await page.mouse.move(pxs[i + 1].px, pxs[i + 1].py);
    await expect.poll(() => tip.getAttribute('data-trial')).toBe(String(u.id));
    expect(await tip.textContent()).toContain(`#${u.pos}`);
    const over = (await page.locator(`.chart[data-chart="${name}"] .u-over`).boundingBox())!;
    const empty = Math.max(...pxs.map((p) => p.py)) + 30 < over.y + over.height ? over.y + over.height - 5 : over.y + 5;
    await page.mouse.move(pxs[i].px, empty);
    await expect.poll(() => tip.isHidden()).toBe(true);
  });

  it('clicking a front point opens that trial, and its URL opens it again', async () => {
    const name = 'pareto:flops';
    const c = await chart(page, name);
    // the front's last point: the best score, at the right end
    const i = c.data[2].length - 1 - [...c.data[2]].reverse().findIndex((y) => y !== null);
    const t = byFlops(c.data[0][i]!);
    const { px, py } = (await screen(page, name))(c.data[0][i]!, c.data[1][i]!);
    await page.mouse.click(px, py);
    const panel = page.locator(`#trial-detail[data-trial="${t.id}"]`);
    await panel.waitFor();
    const shows = async (p: Page): Promise<void> => {
      expect(await p.textContent('#trial-detail h2')).toContain(`Trial #${t.pos}`);
      expect(await p.textContent('#trial-detail .trial-id')).toBe(String(t.id));
      expect(await p.getAttribute('#trial-detail .trial-score', 'data-value')).toBe(String(t.score));
      expect(await p.textContent('#trial-detail [data-status]')).toBe(t.status);
      for (const [k, v] of Object.entries(t.metrics)) expect(await p.getAttribute(`#trial-detail tr[data-metric="${k}"] td`, 'data-value'), k).toBe(String(v));
      const blocks = await p.$$eval(`#trial-detail [data-arch="trial:${t.id}"] .block[data-slot]`, (bs) => bs.map((b) => [b.getAttribute('data-slot'), b.querySelector('.cand')?.textContent]));
      expect(blocks).toEqual([
        ['cells.0.op', t.arch.t_0],
        ['cells.1.op', t.arch.t_1],
      ]);
    };
    await shows(page);
    expect(page.url()).toContain(`trial=${t.id}`);
    expect(new URL(page.url()).hash).toContain('dir=nas');

    // reachable by URL: a fresh tab on it opens the panel with no click
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await tab.goto(page.url());
    await tab.waitForSelector(`#trial-detail[data-trial="${t.id}"]`);
    await shows(tab);
    expect(await tab.locator('#trial-detail').isVisible()).toBe(true);
    await tab.close();

    // closed, the URL no longer names it
    await page.click('#trial-detail .trial-close');
    expect(await page.locator('#trial-detail').isHidden()).toBe(true);
    expect(page.url()).not.toContain('trial=');
  });

  it('any two metrics as the axes: (params, latency) redraws with the front of both minimised, either direction turns', async () => {
    const name = 'pareto:flops';
    const panel = page.locator(`.pareto[data-panel="${name}"]`);
    await panel.locator('select[data-axis="x"]').selectOption('params');
    await panel.locator('select[data-axis="y"]').selectOption('latency');
    expect(await panel.locator('button.pareto-dir[data-axis="x"]').getAttribute('data-dir')).toBe('min');
    expect(await panel.locator('button.pareto-dir[data-axis="y"]').getAttribute('data-dir')).toBe('min');
    // every trial measured both, the failed ones too
    const pts = trials.map((t) => ({ cost: t.metrics.params, score: t.metrics.latency }));
    const key = (idx: number[]): Set<string> => new Set(idx.map((j) => `${pts[j].cost}:${pts[j].score}`));
    const bothMin = key(paretoFront(pts, { cost: 'min', score: 'min' }));
    // the same front by definition: no trial is at least as cheap in both and cheaper in one
    const brute = key(pts.map((_, j) => j).filter((j) => !pts.some((q) => q.cost <= pts[j].cost && q.score <= pts[j].score && (q.cost < pts[j].cost || q.score < pts[j].score))));
    expect(bothMin).toEqual(brute);
    let c = await chart(page, name);
    expect(c.data[0]).toEqual(pts.map((p) => p.cost).sort((a, b) => a - b));
    expect(marked(c)).toEqual(bothMin);
    expect(await panel.locator('.u-title').textContent()).toContain('latency against params');

    // latency maximised instead: another front
    await panel.locator('button.pareto-dir[data-axis="y"]').click();
    c = await chart(page, name);
    const latencyMax = key(paretoFront(pts, { cost: 'min', score: 'max' }));
    expect(latencyMax).not.toEqual(bothMin);
    expect(marked(c)).toEqual(latencyMax);
    await panel.locator('button.pareto-dir[data-axis="y"]').click();
    expect(marked(await chart(page, name))).toEqual(bothMin);

    // a point of the new axes opens its trial (a failed one has no score and still has its place)
    c = await chart(page, name);
    const j = c.data[2].findIndex((y) => y !== null);
    const t = trials.find((x) => x.metrics.params === c.data[0][j] && x.metrics.latency === c.data[1][j])!;
    const { px, py } = (await screen(page, name))(c.data[0][j]!, c.data[1][j]!);
    await page.mouse.click(px, py);
    await page.waitForSelector(`#trial-detail[data-trial="${t.id}"]`);
    expect(await page.getAttribute(`#trial-detail tr[data-metric="params"] td`, 'data-value')).toBe(String(t.metrics.params));
    // the other charts kept their axes
    expect(marked(await chart(page, 'pareto:params')).size).toBeGreaterThan(0);
    expect((await chart(page, 'pareto:params')).data[0]).toEqual(scored().map((x) => x.metrics.params).sort((a, b) => a - b));
  });

  it('needed nothing its Content-Security-Policy refuses', () => {
    expect(refused).toEqual([]);
  });

  it('in the HTML report opened from disk: the same hover and click, and the trial URL, with no request', async () => {
    const out = join(root, 'report.html');
    await promisify(execFile)(process.execPath, [BIN, 'report', join(root, 'nas'), '--html', out]);
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const violations: string[] = [];
    tab.on('request', (r) => requests.push(r.url()));
    tab.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await tab.goto(`file://${out}`);
    await tab.waitForSelector('.chart[data-chart="pareto:latency"] canvas');
    const name = 'pareto:latency';
    const c = await chart(tab, name);
    const i = c.data[2].findIndex((y) => y !== null);
    const t = scored().find((x) => x.metrics.latency === c.data[0][i] && x.score === c.data[1][i])!;
    const { px, py } = (await screen(tab, name))(c.data[0][i]!, c.data[1][i]!);
    await tab.mouse.move(px, py);
    await expect.poll(() => tab.locator(`.chart[data-chart="${name}"] .pareto-tip`).getAttribute('data-trial')).toBe(String(t.id));
    await tab.mouse.click(px, py);
    await tab.waitForSelector(`#trial-detail[data-trial="${t.id}"]`);
    expect(await tab.textContent('#trial-detail .trial-id')).toBe(String(t.id));
    expect(await tab.getAttribute('#trial-detail .trial-score', 'data-value')).toBe(String(t.score));
    expect(await tab.$$eval(`#trial-detail [data-arch="trial:${t.id}"] .block[data-slot] .cand`, (cs) => cs.map((x) => x.textContent))).toEqual([t.arch.t_0, t.arch.t_1]);
    expect(tab.url()).toContain(`trial=${t.id}`);

    // the report's URL naming another trial opens that one
    const other = trials[3];
    await tab.goto(`file://${out}#/run?trial=${other.id}`);
    await tab.reload();
    await tab.waitForSelector(`#trial-detail[data-trial="${other.id}"]`);
    expect(await tab.textContent('#trial-detail h2')).toContain(`Trial #${other.pos}`);
    expect(requests.every((r) => r.startsWith(`file://${out}`))).toBe(true);
    expect(violations).toEqual([]);
    await tab.close();
  });
});
