// The dashboard in a real browser: Playwright driving Chromium (Debian's /usr/bin/chromium) against
// `modnas ui` (the installed command, as a child process) over stores the test writes directly
// (the harness: test/browser.ts).
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { chromium as pw } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { RunView } from './view.js';
import { meanStd, paretoFront } from './view.js';
import { HOSTILE, writeFixture, writeHostileFixture } from '../test/store-fixture.js';
import { ARGS, BIN, REBIND, charts, chromium, chromiumPath, required, skipReason, startUi } from '../test/browser.js';

if (required) {
  it('Chromium is there (MODNAS_REQUIRE_SERVICES=1: the dashboard tests must run)', () => {
    expect(chromium, `no Chromium at MODNAS_TEST_CHROMIUM="${process.env.MODNAS_TEST_CHROMIUM ?? ''}": apt-get install chromium, or point MODNAS_TEST_CHROMIUM at it`).toBe(true);
  });
}

const cellValues = (page: Page, col: number): Promise<string[]> => page.$$eval(`#trials tbody tr td:nth-child(${col})`, (tds) => tds.map((td) => td.getAttribute('data-value') ?? ''));

describe.skipIf(!chromium)(`dashboard in Chromium${skipReason}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'modnas-ui-browser-'));
  let fx: ReturnType<typeof writeFixture>;
  let ui: { url: string; child: ChildProcess };
  let browser: Browser;
  let page: Page;
  const outside: string[] = [];
  /** What Chromium refused under the Content-Security-Policy (the page itself must need nothing refused). */
  const refused: string[] = [];

  beforeAll(async () => {
    fx = writeFixture(root, 'journal'); // the default store of a minimal install
    // a store that cannot be read, beside the others
    mkdirSync(join(root, 'broken'));
    writeFileSync(join(root, 'broken', 'modnas.db'), Buffer.alloc(8192, 0x42));
    [ui, browser] = await Promise.all([startUi(root), pw.launch({ executablePath: chromiumPath, args: ARGS })]);
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // every request must go to the dashboard's own server
    page.on('request', (r) => {
      if (!r.url().startsWith(ui.url) && !r.url().startsWith('data:')) outside.push(r.url());
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    ui?.child.kill('SIGTERM');
    for (const s of [fx.done.store, fx.running.store, fx.repeats[0].store]) s.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('lists the runs with their status, backend and best score', async () => {
    await page.goto(ui.url);
    await page.waitForSelector('#runs tbody tr');
    const rows = await page.$$eval('#runs tbody tr', (trs) => trs.map((tr) => ({ key: tr.getAttribute('data-run'), status: tr.querySelector('[data-status]')?.textContent, best: tr.querySelector('[data-best]')?.getAttribute('data-best'), text: tr.textContent })));
    expect(rows.map((r) => r.key)).toEqual(['bench/evo:r3', 'bench/evo:r2', 'bench/evo:r1', 'broken:', 'darts:r1', 'random:r1']);
    // the corrupt store is listed as unreadable, with the reason and no path of this machine
    const broken = rows.find((r) => r.key === 'broken:')!;
    expect(broken.status).toBe('unreadable');
    expect(broken.text).toContain('MODNAS_E_UI_STORE_UNREADABLE');
    expect(broken.text).not.toContain(root);
    const darts = rows.find((r) => r.key === 'darts:r1')!;
    expect(darts.status).toBe('done');
    expect(Number(darts.best)).toBe(Math.max(...fx.done.store.records('candidates', 'r1').map((r) => r.record.score as number)));
    expect(darts.text).toContain('native');
    expect(darts.text).toContain('1 min 35 s');
    expect(rows.find((r) => r.key === 'random:r1')!.status).toBe('running');
  });

  it("a finished run: curves, trial table, Pareto front, α heatmap and architecture show the store's numbers", async () => {
    await page.click('a[href*="dir=darts"]');
    await page.waitForSelector('#trials tbody tr');
    const c = await charts(page);
    const epochs = fx.done.store.records('metrics', 'r1').map((r) => r.record);
    expect(c['curves:search:loss'].labels).toEqual(['train_loss', 'loss']);
    expect(c['curves:search:loss'].data[0]).toEqual(epochs.map((e) => (e.epoch as number) + 1)); // epochs from 1, as the logs count them
    expect(c['curves:search:loss'].data[2]).toEqual(epochs.map((e) => e.loss));
    expect(c['curves:search:metrics'].data[1]).toEqual(epochs.map((e) => e.acc));
    expect(await page.$$eval('.chart canvas', (cs) => cs.filter((x) => (x as unknown as { width: number }).width > 100).length)).toBeGreaterThanOrEqual(4);

    const trials = fx.done.store.records('candidates', 'r1').map((r) => r.record);
    const scores = trials.map((t) => t.score as number);
    expect((await cellValues(page, 5)).map(Number)).toEqual(scores);
    // best so far against trials
    expect(c['best:trials'].data[2]).toEqual(scores.map((_, i) => Math.max(...scores.slice(0, i + 1))));
    // sort by score (descending first), then filter by arch
    await page.click('#trials th[data-key="score"]');
    expect((await cellValues(page, 5)).map(Number)).toEqual([...scores].sort((a, b) => b - a));
    await page.fill('#trial-filter', '"t_0":"NIL"');
    expect((await cellValues(page, 5)).length).toBe(trials.filter((t) => (t.arch as Record<string, string>).t_0 === 'NIL').length);
    await page.fill('#trial-filter', '');

    // score against flops: the front the chart marks is the store's Pareto front
    const pts = trials.map((t) => ({ cost: (t.metrics as Record<string, number>).flops, score: t.score as number }));
    const front = new Set(paretoFront(pts).map((i) => `${pts[i].cost}:${pts[i].score}`));
    const pf = c['pareto:flops'];
    const marked = pf.data[0].map((x, i) => (pf.data[2][i] === null ? null : `${x}:${pf.data[2][i]}`)).filter(Boolean);
    expect(new Set(marked)).toEqual(front);
    expect(c['pareto:params']).toBeDefined();

    // softmax(α): one heatmap per mixed op, cells = the stored probabilities
    const alpha = fx.done.store.records('alpha', 'r1').map((r) => r.record.ops as Array<{ param: string; probs: number[] }>);
    const cells = await page.$$eval('table.heatmap[data-param="t_0"] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => Number(td.getAttribute('data-p')))));
    expect(cells).toEqual([0, 1, 2].map((k) => alpha.map((ops) => ops[0].probs[k])));

    // the architecture: the chosen candidate per Slot, with its shape, and the link to the file
    const blocks = await page.$$eval('.blocks[data-arch="arch_search_best.yaml"] .block[data-slot]', (bs) => bs.map((b) => [b.getAttribute('data-slot'), b.querySelector('.cand')?.textContent, b.querySelector('.shape')?.textContent]));
    expect(blocks).toEqual([
      ['stem.conv', 'conv3', '1→8'],
      ['cells.0.op', 'MB5E6', '8→16 /2'],
      ['cells.1.op', 'MB3E3', '16→16'],
    ]);
    const href = await page.getAttribute('a.arch-link', 'href');
    expect(await (await fetch(new URL(href!, ui.url))).text()).toBe(readFileSync(join(root, 'darts', 'outputs', 'arch_search_best.yaml'), 'utf8'));
    const shot = join(root, 'run.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
  });

  it('a running run updates live: a new trial and a new epoch appear without a reload, then the status turns done', async () => {
    await page.goto(`${ui.url}#/run?dir=random&run=r1`);
    // (a hash change: the previous run's view stays on screen until this one is drawn)
    await page.waitForSelector('#facts [data-status="running"]');
    await page.waitForSelector('#trials tbody tr:nth-child(3)');
    expect(await page.textContent('#facts [data-status]')).toBe('running');
    expect(await page.$$eval('#trials tbody tr', (r) => r.length)).toBe(3);
    const s = fx.running.store;
    s.activate('r1');
    s.append('candidates', { estim: 'search', index: 3, arch: { t_0: 'MB5E6' }, status: 'done', score: 0.9912, metrics: { acc: 0.9912 }, time: new Date().toISOString() });
    s.append('metrics', { estim: 'search', epoch: 0, epochs: 1, loss: 0.4321, acc: 0.9, time: new Date().toISOString() });
    // (selectors, not predicates: the page's Content-Security-Policy refuses the eval a predicate needs)
    await page.waitForSelector('#trials tbody tr:nth-child(4)', { timeout: 10_000 });
    expect(await page.$$eval('#trials tbody tr', (r) => r.length)).toBe(4);
    expect(await page.textContent('#best')).toBe('0.9912');
    expect((await charts(page))['curves:search:loss'].data[1]).toEqual([0.4321]);
    s.updateRun('r1', { status: 'done', end: new Date().toISOString() });
    await page.waitForSelector('#facts [data-status="done"]', { timeout: 10_000 });
  });

  it('compares runs: best so far overlaid and mean ± std per optimizer', async () => {
    await page.goto(ui.url);
    await page.waitForSelector('#runs tbody tr');
    for (const r of fx.repeats) await page.check(`tr[data-run="${r.dir}:${r.id}"] input[type=checkbox]`);
    await page.click('#compare');
    await page.waitForSelector('[data-chart="compare:mean"]');
    const c = await charts(page);
    const best = fx.repeats.map((r) => {
      const sc = r.store.records('candidates', r.id).map((x) => x.record.score as number);
      return sc.map((_, i) => Math.max(...sc.slice(0, i + 1)));
    });
    expect(c['compare:best'].labels).toEqual(['bench/evo r1', 'bench/evo r2', 'bench/evo r3']);
    const { mean, std } = meanStd(best);
    expect(c['compare:mean'].labels[0]).toBe('EvolutionOptim mean (3 runs)');
    expect(c['compare:mean'].data[1]).toEqual(mean);
    expect(c['compare:mean'].data[2].map((v, i) => (v === null ? null : v - (mean[i] ?? 0)))).toEqual(std.map((x) => expect.closeTo(x ?? 0, 12)));
  });

  it('made no request outside its own server, and needed nothing its CSP refuses', () => {
    expect(outside).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('the traversal of issue 25 gets 404; a rebound DNS name gets 403', async () => {
    const outsideFile = join(root, '..', `${root.split('/').pop()}-outside_best.yaml`);
    writeFileSync(outsideFile, 'outside');
    onTestFinished(() => rmSync(outsideFile, { force: true }));
    const tab = await browser.newPage();
    const port = new URL(ui.url).port;
    const traversal = await tab.goto(`${ui.url}api/arch?dir=darts&name=${encodeURIComponent(`arch_/../../../../${root.split('/').pop()}-outside_best.yaml`)}`);
    expect(traversal?.status()).toBe(404);
    expect(await tab.textContent('body')).not.toContain('outside"');
    expect((await tab.goto(`${ui.url}api/arch?dir=darts&name=arch_search_best.yaml`))?.status()).toBe(200);
    // a page of the attacker's, its name now resolving to 127.0.0.1, reads nothing
    for (const path of ['', 'api/experiments', 'api/run?dir=darts&run=r1']) {
      const r = await tab.goto(`http://${REBIND}:${port}/${path}`);
      expect(r?.status(), path).toBe(403);
      expect(await tab.textContent('body')).not.toContain('darts');
    }
    await tab.close();
  });

  it('a hostile store runs no script: neither in its report (modnas report --html) nor in the dashboard', async () => {
    const evil = mkdtempSync(join(tmpdir(), 'modnas-ui-hostile-'));
    try {
      const h = writeHostileFixture(evil);
      const out = join(evil, 'report.html');
      await promisify(execFile)(process.execPath, [BIN, 'report', h.folder, '--html', out]);
      const check = async (tab: Page, what: string): Promise<void> => {
        expect(await tab.evaluate('window.__pwned'), what).toBeUndefined();
        // no markup of the store's became an element: its strings are text
        expect(await tab.$$eval('img, iframe, object, embed, svg', (els) => els.length), what).toBe(0);
        expect(await tab.textContent('body'), what).toContain(HOSTILE.img);
      };
      const tab = await browser.newPage();
      const dialogs: string[] = [];
      const requests: string[] = [];
      const violations: string[] = [];
      tab.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      tab.on('request', (r) => requests.push(r.url()));
      tab.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await tab.goto(`file://${out}`);
      await tab.waitForSelector('#trials tbody tr');
      await check(tab, 'report');
      expect(await tab.title()).toBe(`modnas report: ${h.experiment} ${h.run}`);
      expect(await tab.$$eval('script', (s) => s.length)).toBe(2);
      expect(await tab.$$eval('#trials tbody tr', (r) => r.length)).toBe(3);
      expect(await tab.textContent('#trials')).toContain(`${HOSTILE.img}2`);
      expect(await tab.textContent('.blocks')).toContain(HOSTILE.script);
      expect(requests).toEqual([`file://${out}`]); // an <img src=x> would have asked for x
      expect(violations).toEqual([]); // nothing was even attempted (the CSP is the second wall)

      // the same store in the live dashboard
      const live = await startUi(evil);
      try {
        await tab.goto(live.url);
        await tab.waitForSelector('#runs tbody tr');
        await check(tab, 'runs list');
        await tab.click('#runs tbody tr a');
        await tab.waitForSelector('#trials tbody tr');
        await check(tab, 'run view');
        expect(await tab.textContent('h1')).toBe(`${h.experiment} ${h.run}`);
      } finally {
        live.child.kill('SIGTERM');
      }
      expect(dialogs).toEqual([]);
      await tab.close();
    } finally {
      rmSync(evil, { recursive: true, force: true });
    }
  });

  it('modnas report --html writes one file that renders the run offline', async () => {
    const out = join(root, 'r.html');
    await promisify(execFile)(process.execPath, [BIN, 'report', join(root, 'darts'), '--html', out]);
    const offline = await browser.newPage();
    const requests: string[] = [];
    await offline.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    await offline.goto(`file://${out}`);
    await offline.waitForSelector('#trials tbody tr');
    expect(requests).toEqual([`file://${out}`]);
    const view = await offline.evaluate<RunView>('window.__MODNAS_STATIC__.view');
    expect(view.trials).toHaveLength(12);
    expect(await offline.$$eval('#trials tbody tr', (r) => r.length)).toBe(12);
    const c = await charts(offline);
    expect(c['curves:search:loss'].data[2]).toEqual(fx.done.store.records('metrics', 'r1').map((r) => r.record.loss));
    expect(await offline.$$eval('table.heatmap', (t) => t.length)).toBe(2);
    await offline.close();
  });
});
