// The α view and the architecture picture in Chromium (issue 24, items 1 and 4): α heatmaps that
// tell 0.2479 from 0.2530, the entropy of each mixed op, the chosen candidate marked, and a
// NAS-Bench-201 cell drawn as the DAG its space declares. Stores written directly (the harness:
// test/browser.ts); the 'space' record as the runner writes it (ArchSpace.describe(), see
// plugins/bench-nas-bench-201/src/nb201.test.ts for a real run's).
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium as pw } from 'playwright-core';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JournalStore } from '@modnas/store-journal';
import { ARGS, charts, chromium, chromiumPath, openFresh, skipReason, startUi } from '../test/browser.js';

const T0 = Date.parse('2026-02-01T10:00:00Z');

function openRun(root: string, dir: string, optim: string): JournalStore {
  mkdirSync(join(root, dir), { recursive: true });
  const s = new JournalStore(join(root, dir), dir);
  s.insertRun({ id: 'r1', experiment: dir, configHash: `hash-${dir}`, config: { name: dir, optim: { type: optim } }, status: 'done', start: new Date(T0).toISOString(), end: new Date(T0 + 60_000).toISOString(), heartbeat: new Date(T0 + 60_000).toISOString(), pid: process.pid, host: hostname(), resumes: 0 });
  s.activate('r1');
  s.append('run_info', { backend: 'cpu', time: new Date(T0).toISOString() });
  return s;
}

/** A DARTS search whose α barely moved: every probability within 0.003 of uniform (1/4). */
const CANDS = ['none', 'sep_conv_3x3', 'max_pool_3x3', 'skip_connect'];
const ALPHA: Array<Record<string, number[]>> = [
  { 'cell.e0': [0.25, 0.25, 0.25, 0.25], 'cell.e1': [0.25, 0.25, 0.25, 0.25] },
  { 'cell.e0': [0.2491, 0.2503, 0.2497, 0.2509], 'cell.e1': [0.2506, 0.2494, 0.2501, 0.2499] },
  { 'cell.e0': [0.2479, 0.253, 0.2488, 0.2503], 'cell.e1': [0.2512, 0.2481, 0.2502, 0.2505] },
];

const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'];
const NB201_EDGES = ['1<-0', '2<-0', '2<-1', '3<-0', '3<-1', '3<-2'];
/** What the runner records for NASBench201Space (stream 'space'): the 6 edge params and the cell's DAG. */
const NB201_SPACE = {
  params: NB201_EDGES.map((name) => ({ name, type: 'categorical', choices: NB201_OPS })),
  graph: {
    nodes: ['0', '1', '2', '3'],
    edges: NB201_EDGES.map((param) => ({ from: Number(param[3]), to: Number(param[0]), param })),
  },
};
const CELLS: Array<Record<string, string>> = [
  { '1<-0': 'nor_conv_3x3', '2<-0': 'none', '2<-1': 'nor_conv_3x3', '3<-0': 'skip_connect', '3<-1': 'none', '3<-2': 'nor_conv_1x1' },
  { '1<-0': 'avg_pool_3x3', '2<-0': 'nor_conv_1x1', '2<-1': 'skip_connect', '3<-0': 'none', '3<-1': 'nor_conv_3x3', '3<-2': 'none' },
  { '1<-0': 'skip_connect', '2<-0': 'nor_conv_3x3', '2<-1': 'none', '3<-0': 'avg_pool_3x3', '3<-1': 'skip_connect', '3<-2': 'nor_conv_3x3' },
];
const FITNESS = [91.2, 84.5, 88.9];

function writeStores(root: string): void {
  const d = openRun(root, 'darts-flat', 'DARTSOptim');
  ALPHA.forEach((ops, epoch) => {
    d.append('metrics', { estim: 'search', epoch, epochs: ALPHA.length, loss: 2 - epoch * 0.1, time: new Date(T0 + epoch * 1000).toISOString() });
    d.append('alpha', { estim: 'search', epoch, ops: Object.entries(ops).map(([param, probs]) => ({ param, candidates: CANDS, probs })) });
  });
  d.close();

  // a finished NAS-Bench-201 search: its space, its trials (as kit-tabular writes them), the best cell's arch file (DefaultParamsExporter)
  const n = openRun(root, 'nb201', 'RandomSearchOptim');
  n.append('space', { ...NB201_SPACE, time: new Date(T0).toISOString() });
  CELLS.forEach((arch, i) => n.append('trials', { estim: 'search', query: i + 1, row: 100 + i, arch, fitness: FITNESS[i], valid_acc: FITNESS[i] }));
  n.close();
  mkdirSync(join(root, 'nb201', 'outputs'));
  writeFileSync(join(root, 'nb201', 'outputs', 'arch_search_best.yaml'), stringify(CELLS[0]));

  // the same space, no architecture file yet
  const l = openRun(root, 'nb201-space', 'RandomSearchOptim');
  l.append('space', { ...NB201_SPACE, time: new Date(T0).toISOString() });
  l.close();
}

const entropy = (ps: number[]): number => -ps.reduce((s, p) => (p > 0 ? s + p * Math.log(p) : s), 0);

describe.skipIf(!chromium)(`α heatmaps and architecture pictures in Chromium${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'modnas-ui-alpha-arch-'));
  let ui: { url: string; child: ChildProcess };
  let browser: Browser;
  let page: Page;
  const refused: string[] = [];

  beforeAll(async () => {
    writeStores(root);
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

  it('colours α by its deviation from uniform, so 0.2479 and 0.2530 differ, and shows four significant digits', async () => {
    await page.goto(`${ui.url}#/run?dir=darts-flat&run=r1`);
    await page.waitForSelector('table.heatmap[data-param="cell.e0"] tbody tr');
    const cells = await page.$$eval('table.heatmap[data-param="cell.e0"] tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => ({ p: Number(td.getAttribute('data-p')), text: td.textContent, title: td.getAttribute('title') ?? '', bg: td.ownerDocument.defaultView!.getComputedStyle(td).backgroundColor }))),
    );
    // rows: candidates, columns: epochs, data-p: the stored probabilities
    expect(cells.map((row) => row.map((c) => c.p))).toEqual(CANDS.map((_, k) => ALPHA.map((ops) => ops['cell.e0'][k])));
    const low = cells[0][2];
    const high = cells[1][2];
    expect([low.p, high.p]).toEqual([0.2479, 0.253]);
    expect(low.bg).not.toBe(high.bg);
    expect([low.text, high.text]).toEqual(['0.2479', '0.2530']);
    expect(high.title).toContain('0.253');
    // uniform is white; the largest deviation of the op (0.2530 - 0.25) is full colour
    expect(cells[0][0].bg).toBe('rgb(255, 255, 255)');
    expect(high.bg).toBe('rgb(31, 119, 180)');
    // the scale is the op's own: the other op's largest deviation (0.2481) is full red
    const other = await page.$$eval('table.heatmap[data-param="cell.e1"] tbody tr:nth-child(2) td:nth-child(4)', (tds) => tds.map((td) => [td.getAttribute('data-p'), td.ownerDocument.defaultView!.getComputedStyle(td).backgroundColor]));
    expect(other).toEqual([['0.2481', 'rgb(214, 39, 40)']]);
    expect(await page.textContent('table.heatmap[data-param="cell.e0"] caption')).toContain('p − 1/k');
  });

  it("plots each mixed op's entropy over the epochs from the stored probabilities", async () => {
    const c = (await charts(page))['alpha:entropy'];
    expect(c.labels).toEqual(['cell.e0', 'cell.e1', 'uniform (ln 4)']);
    expect(c.data[0]).toEqual([1, 2, 3]); // epochs from 1, as the logs count them
    for (const [i, op] of ['cell.e0', 'cell.e1'].entries()) {
      expect(c.data[i + 1]).toEqual(ALPHA.map((ops) => expect.closeTo(entropy(ops[op]), 12)));
    }
    expect(c.data[1][0]).toBeCloseTo(Math.log(4), 12);
    expect(c.data[1][2]).toBeLessThan(c.data[1][1]!);
  });

  it('marks the chosen candidate of each mixed op: the largest at the last epoch', async () => {
    const marked = await page.$$eval('table.heatmap', (ts) => ts.map((t) => [t.getAttribute('data-param'), t.getAttribute('data-chosen'), [...t.querySelectorAll('tbody tr.chosen')].map((tr) => [tr.querySelector('th')?.textContent, tr.getAttribute('data-chosen')])]));
    expect(marked).toEqual([
      ['cell.e0', 'sep_conv_3x3', [['sep_conv_3x3', 'argmax']]],
      ['cell.e1', 'none', [['none', 'argmax']]],
    ]);
  });

  it('draws a NAS-Bench-201 cell as the DAG its space declares: 4 nodes, 6 edges labelled with the ops', async () => {
    await openFresh(page, `${ui.url}#/run?dir=nb201&run=r1`);
    await page.waitForSelector('.arch-dag[data-arch="arch_search_best.yaml"] svg');
    const dag = '.arch-dag[data-arch="arch_search_best.yaml"]';
    expect(await page.$$eval(`${dag} [data-node]`, (ns) => ns.map((n) => [n.getAttribute('data-node'), n.getAttribute('class')]))).toEqual([
      ['0', 'node io'],
      ['1', 'node'],
      ['2', 'node'],
      ['3', 'node io'],
    ]);
    const edges = await page.$$eval(`${dag} path[data-edge]`, (ps) => ps.map((p) => [p.getAttribute('data-edge'), p.getAttribute('data-op'), p.classList.contains('empty')]));
    const labels = await page.$$eval(`${dag} text[data-label-of]`, (ts) => ts.map((t) => [t.getAttribute('data-label-of'), t.childNodes[t.childNodes.length - 1].textContent]));
    // the best trial (highest fitness) is the arch file's cell
    const best = CELLS[FITNESS.indexOf(Math.max(...FITNESS))];
    expect(edges).toEqual(NB201_EDGES.map((e) => [e, best[e], best[e] === 'none']));
    expect(labels).toEqual(NB201_EDGES.map((e) => [e, best[e]]));
    // each edge is a visible stroke between its nodes
    const box = await page.$eval(`${dag} path[data-edge="3<-0"]`, (p) => {
      const b = (p as unknown as { getBBox(): { width: number } }).getBBox();
      return b.width;
    });
    expect(box).toBeGreaterThan(300);
  });

  it('draws the declared graph of the space before there is an architecture, each edge with its number of ops', async () => {
    await openFresh(page, `${ui.url}#/run?dir=nb201-space&run=r1`);
    await page.waitForSelector('.arch-dag svg');
    expect(await page.$$eval('.arch-dag [data-node]', (ns) => ns.length)).toBe(4);
    const edges = await page.$$eval('.arch-dag path[data-edge]', (ps) => ps.map((p) => [p.getAttribute('data-edge'), p.hasAttribute('data-op')]));
    expect(edges).toEqual(NB201_EDGES.map((e) => [e, false]));
    expect(await page.$$eval('.arch-dag text[data-label-of]', (ts) => ts.map((t) => t.childNodes[t.childNodes.length - 1].textContent))).toEqual(NB201_EDGES.map(() => '5 ops'));
  });

  it('needed nothing its CSP refuses', () => {
    expect(refused).toEqual([]);
  });
});
