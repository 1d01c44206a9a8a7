// The dashboard's server and data without a browser: what the API returns is what the store holds,
// live updates arrive as server-sent events, nothing but GET is answered, nothing outside the
// experiment folders is served, and the coded errors (no store, port in use) name the fix.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentEntry, RunView, WireView } from './view.js';
import { bestSoFar, costKeys, meanStd, packTrials, paretoFront, unpackTrials, unpackView } from './view.js';
import { renderHtmlReport, startUiServer, writeHtmlReport } from './index.js';
import type { UiServer } from './index.js';
import { writeFixture } from '../test/store-fixture.js';

describe('view helpers', () => {
  it('costKeys: one scatter per cost metric, a latency per target, never a spread', () => {
    const trial = (metrics: Record<string, number>) => ({ metrics }) as unknown as Parameters<typeof costKeys>[0][number];
    expect(costKeys([trial({ acc: 0.9, params: 10, latency_wasm: 1.2, latency_wasm_iqr: 0.1 }), trial({ latency_webgl: 9, FLOPs: 100 })])).toEqual(['FLOPs', 'latency_wasm', 'latency_webgl', 'params']);
  });

  it('paretoFront keeps exactly the points no other point dominates (lower cost, higher score)', () => {
    const pts = [
      { cost: 1, score: 0.5 },
      { cost: 2, score: 0.7 },
      { cost: 2, score: 0.6 },
      { cost: 3, score: 0.65 },
      { cost: 4, score: 0.9 },
      { cost: 0.5, score: 0.4 },
    ];
    const brute = pts.map((p, i) => i).filter((i) => !pts.some((q, j) => j !== i && q.cost <= pts[i].cost && q.score >= pts[i].score && (q.cost < pts[i].cost || q.score > pts[i].score)));
    expect(paretoFront(pts).sort()).toEqual(brute.sort());
    expect(paretoFront(pts).sort()).toEqual([0, 1, 4, 5]);
  });

  it('packTrials/unpackTrials give back the trials exactly, in a fraction of their JSON', () => {
    const ops = ['nor_conv_3x3', 'nor_conv_1x1', 'skip_connect', 'avg_pool_3x3', 'none'];
    const t0 = Date.parse('2026-12-07T10:00:00.000Z');
    const trials: RunView['trials'] = Array.from({ length: 2000 }, (_, i) => ({
      id: 10 + i,
      estim: i % 3 === 0 ? 'search' : 'final',
      index: i,
      arch: { '1<-0': ops[i % 5], '2<-0': ops[(i * 7) % 5], ...(i % 11 === 0 ? { depth: i % 4, nested: { k: [1, 'a'] } } : {}) },
      metrics: { acc: (i % 97) / 97, ...(i % 2 ? { flops: 1e6 + i } : {}) },
      status: i % 13 === 0 ? 'failed' : 'done',
      score: i % 13 === 0 ? null : (i % 97) / 97,
      ...(i % 5 === 0 ? {} : { seconds: i / 7 }),
      ...(i % 17 === 0 ? {} : { time: new Date(t0 + i * 1234).toISOString() }),
    }));
    const packed = packTrials(trials);
    expect(unpackTrials(JSON.parse(JSON.stringify(packed)) as typeof packed)).toEqual(trials);
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(trials).length / 2);
    expect(unpackTrials(packTrials([]))).toEqual([]);
  });

  it('bestSoFar and meanStd', () => {
    const t = (score: number | null) => ({ id: 0, estim: 's', index: 0, arch: {}, metrics: {}, status: 'done', score });
    expect(bestSoFar([t(0.2), t(null), t(0.1), t(0.5)])).toEqual([0.2, 0.2, 0.2, 0.5]);
    const { mean, std, n } = meanStd([
      [1, 2, 3],
      [3, 4],
    ]);
    expect(mean).toEqual([2, 3, 3]);
    expect(std).toEqual([1, 1, 0]);
    expect(n).toEqual([2, 2, 1]);
  });
});

describe('modnas ui server (over SQLite stores; the browser tests use journal stores)', () => {
  const root = mkdtempSync(join(tmpdir(), 'modnas-ui-'));
  let fx: ReturnType<typeof writeFixture>;
  let server: UiServer;
  beforeAll(async () => {
    fx = writeFixture(root, 'sqlite');
    server = await startUiServer({ folder: root, port: 0, pollMs: 50 });
  });
  afterAll(async () => {
    await server.close();
    for (const s of [fx.done.store, fx.running.store, fx.repeats[0].store]) s.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('binds to loopback and lists every experiment under the folder with status, backend, duration, trials, best', async () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const exps = (await (await fetch(server.url + 'api/experiments')).json()) as ExperimentEntry[];
    expect(exps.map((e) => e.dir)).toEqual(['bench/evo', 'darts', 'random']);
    const darts = exps.find((e) => e.dir === 'darts')!;
    const scores = fx.done.store.records('candidates', 'r1').map((r) => r.record.score as number);
    expect(darts.runs[0]).toMatchObject({ id: 'r1', status: 'done', backend: 'native', optim: 'DARTSOptim', seconds: 95, trials: 12, best: Math.max(...scores) });
    expect(darts.archFiles).toEqual(['arch_search_best.yaml']);
    expect(exps.find((e) => e.dir === 'random')!.runs[0]).toMatchObject({ status: 'running', backend: 'wasm', trials: 3 });
  });

  it("a run's view holds the store's epochs, trials, α and Slots, and the arch file", async () => {
    const v = unpackView((await (await fetch(server.url + 'api/run?dir=darts&run=r1')).json()) as WireView);
    const metrics = fx.done.store.records('metrics', 'r1');
    expect(v.metrics.map((m) => m.values.loss)).toEqual(metrics.map((m) => m.record.loss));
    expect(v.trials.map((t) => [t.score, t.metrics.flops, t.arch])).toEqual(fx.done.store.records('candidates', 'r1').map((r) => [r.record.score, (r.record.metrics as Record<string, number>).flops, r.record.arch]));
    expect(v.alpha).toHaveLength(4);
    expect(v.alpha[3].ops[0].probs).toEqual((fx.done.store.records('alpha', 'r1')[3].record.ops as Array<{ probs: number[] }>)[0].probs);
    expect(v.slots.map((s) => s.path)).toEqual(['stem.conv', 'cells.0.op', 'cells.1.op']);
    expect(v.arch[0]).toMatchObject({ name: 'arch_search_best.yaml', estim: 'search', desc: ['conv3', 'MB5E6', 'MB3E3'] });
    const yaml = await fetch(server.url + 'api/arch?dir=darts&name=arch_search_best.yaml');
    expect(await yaml.text()).toBe(readFileSync(join(root, 'darts', 'outputs', 'arch_search_best.yaml'), 'utf8'));
  });

  it('streams new records of a running run as server-sent events', async () => {
    const first = (await (await fetch(server.url + 'api/run?dir=random&run=r1')).json()) as WireView;
    const controller = new AbortController();
    const res = await fetch(`${server.url}api/events?dir=random&run=r1&after=${first.lastId}`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    fx.running.store.activate('r1');
    fx.running.store.append('candidates', { estim: 'search', index: 99, arch: { t_0: 'NIL' }, status: 'done', score: 0.987, metrics: { acc: 0.987 } });
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes('0.987') && Date.now() < deadline) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const event = text.split('\n').find((l) => l.startsWith('data:') && l.includes('0.987'));
    expect(event).toBeDefined();
    const u = JSON.parse(event!.slice(5)) as { records: Array<{ id: number; stream: string; record: { score: number } }>; run: { status: string } };
    expect(u.records.map((r) => [r.stream, r.record.score])).toEqual([['candidates', 0.987]]);
    expect(u.records[0].id).toBeGreaterThan(first.lastId);
    expect(u.run.status).toBe('running');
  });

  it("a run's view asked for again holds the records written since (the server keeps the view and reads only what is new)", async () => {
    const get = async (): Promise<RunView> => unpackView((await (await fetch(server.url + 'api/run?dir=random&run=r1')).json()) as WireView);
    const before = await get();
    fx.running.store.activate('r1');
    fx.running.store.append('candidates', { estim: 'search', index: 100, arch: { t_0: 'MB3E3' }, status: 'done', score: 0.5, metrics: { acc: 0.5 } });
    await new Promise((r) => setTimeout(r, 120)); // past the poll interval (50 ms here) the body is made again
    const after = await get();
    expect(after.trials).toHaveLength(before.trials.length + 1);
    expect(after.trials.at(-1)).toMatchObject({ arch: { t_0: 'MB3E3' }, score: 0.5 });
    expect(after.trials.slice(0, -1)).toEqual(before.trials);
    expect(after.lastId).toBeGreaterThan(before.lastId);
  });

  it('is read-only and serves nothing outside the experiment folders', async () => {
    expect((await fetch(server.url + 'api/experiments', { method: 'POST' })).status).toBe(405);
    expect((await fetch(server.url + 'api/arch?dir=darts&name=../modnas.db')).status).toBe(404);
    expect((await fetch(server.url + 'api/arch?dir=..&name=arch_search_best.yaml')).status).toBe(404);
    expect((await fetch(server.url + 'api/run?dir=darts&run=r9')).status).toBe(404);
    const page = await (await fetch(server.url)).text();
    expect(page).toContain('<script src="app.js"></script>');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('refuses a folder without a store, and a port in use, with coded errors', async () => {
    const empty = join(root, 'nothing-here');
    mkdirSync(join(empty, 'a'), { recursive: true });
    await expect(startUiServer({ folder: empty, port: 0 })).rejects.toMatchObject({ code: 'MODNAS_E_UI_NO_STORE' });
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as { port: number }).port;
    await expect(startUiServer({ folder: root, port })).rejects.toMatchObject({ code: 'MODNAS_E_UI_PORT_IN_USE', message: expect.stringContaining('--port') });
    blocker.close();
  });

  it('writes a self-contained HTML report of a run', async () => {
    const out = join(root, 'r.html');
    const r = await writeHtmlReport({ folder: join(root, 'darts'), out });
    expect(r.run).toBe('r1');
    const html = readFileSync(out, 'utf8');
    expect(html).not.toContain('src="app.js"');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
    expect(html).toContain('window.__MODNAS_STATIC__');
    // the data survives inlining, including a "</script>" inside a string
    const view = JSON.parse(JSON.stringify({ ...(JSON.parse(html.split('window.__MODNAS_STATIC__ = ')[1].split(';</script>')[0]) as { view: RunView }).view }));
    expect((view as RunView).trials).toHaveLength(12);
    const tricky = renderHtmlReport({ ...(view as RunView), trials: [{ id: 1, estim: '</script><b>', index: 0, arch: {}, metrics: {}, status: 'done', score: 1 }] });
    expect(tricky.match(/<\/script>/g)?.length).toBe(2);
    await expect(writeHtmlReport({ folder: root, out })).rejects.toMatchObject({ code: 'MODNAS_E_UI_NO_STORE' });
  });
});
