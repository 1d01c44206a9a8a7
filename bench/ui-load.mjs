#!/usr/bin/env node
// The dashboard under load (issue 25, point 8): `modnas ui` (the real command, a child process) over a
// SQLite run that another process writes, with ten pages open on that run the way the page opens it
// (GET /api/run, then the server-sent events after its lastId). Measured while the run writes:
// the latency of /api/experiments (what the runs list asks every 5 s), the ui's CPU and RSS (from
// /proc), the size of the store's WAL, and whether every page received every record exactly once.
// Usage: node bench/ui-load.mjs [--trials 100000] [--pages 10] [--seconds 60] [--rate 200]
//   [--keep] [--write]
//   --trials: the run's trials at the end (written before the pages open, but the last rate*seconds);
//   --write: replace this benchmark's section of bench/RESULTS.md. Needs a build:
//   pnpm turbo run build --filter @modnas/cli... --filter @modnas/store-sqlite
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeSection } from './sections.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']] : acc), []),
);
const TRIALS = Number(args.trials ?? 100_000);
const PAGES = Number(args.pages ?? 10);
const SECONDS = Number(args.seconds ?? 60);
const RATE = Number(args.rate ?? 200);
const MODES = ['store'];
const BIN = join(root, 'packages/cli/dist/bin.js');
const SQLITE = pathToFileURL(join(root, 'plugins/store-sqlite/dist/index.js')).href;
const TICK_MS = 20;

// The run: `prefill N` writes N trials in transactions of 1,000; `live RATE SECONDS` appends RATE
// trials a second, each its own transaction as the runner writes them; `close` ends the run.
const WRITER = `
import { createInterface } from 'node:readline';
import { hostname } from 'node:os';
const [db, mod] = process.argv.slice(1);
const { SqliteStore } = await import(mod);
const s = new SqliteStore(db, 'load');
const t = new Date().toISOString();
s.insertRun({ id: 'r1', experiment: 'load', configHash: 'h', config: { name: 'load', optim: { type: 'RandomSearchOptim' } }, status: 'running', start: t, heartbeat: t, pid: process.pid, host: hostname(), resumes: 0 });
s.activate('r1');
s.append('run_info', { backend: 'native', time: t });
let i = 0;
const ops = ['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6', 'NIL'];
const trial = () => {
  const arch = {};
  for (let k = 0; k < 17; k++) arch['t_' + k] = ops[(i * 7 + k * 3) % ops.length];
  const score = Math.round((0.5 + 0.45 * Math.abs(Math.sin(i * 0.37))) * 1e4) / 1e4;
  s.append('candidates', { estim: 'search', index: i, arch, status: 'done', score, metrics: { acc: score, flops: 1e6 + (i % 997) * 1e3, params: 1e5 + (i % 89) * 10 }, seconds: 0.01, time: new Date().toISOString() });
  i++;
};
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, a, b] = line.split(' ');
  if (cmd === 'prefill') {
    for (let n = Number(a); n > 0; n -= 1000) s.transaction(() => { for (let k = 0; k < Math.min(1000, n); k++) trial(); });
  } else if (cmd === 'live') {
    const start = i, rate = Number(a), end = Date.now() + Number(b) * 1000, t0 = Date.now();
    while (Date.now() < end) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate) - (i - start);
      for (let k = 0; k < due; k++) trial();
      s.updateRun('r1', { heartbeat: new Date().toISOString() });
      await new Promise((r) => setTimeout(r, ${TICK_MS}));
    }
  } else if (cmd === 'close') {
    s.updateRun('r1', { status: 'done', end: new Date().toISOString() });
    s.close();
  }
  console.log(JSON.stringify({ cmd, trials: i, lastId: cmd === 'close' ? null : s.lastRecordId() }));
  if (cmd === 'close') break;
}
`;

function lines(child) {
  const said = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    said.push(l);
    while (waiters.length) waiters.shift()();
  });
  return {
    said,
    async next(pred, ms = 600_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = said.find(pred);
        if (hit) {
          said.splice(said.indexOf(hit), 1);
          return hit;
        }
        if (Date.now() > deadline) throw new Error(`no line in ${ms} ms; got ${said.join(' | ')}`);
        await new Promise((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

// agent: false, a connection of its own per request (a kept-alive socket the server closed while this
// process was busy would fail the next request on it)
function get(url) {
  return new Promise((ok, fail) => {
    const t = performance.now();
    const req = request(url, { agent: false }, (res) => {
      let bytes = 0;
      const chunks = [];
      res.on('data', (d) => {
        bytes += d.length;
        chunks.push(d);
      });
      res.on('end', () => ok({ status: res.statusCode, ms: performance.now() - t, bytes, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** A page following the run: counts the records it receives, checks they come in order and once. */
function follow(url) {
  const page = { lastId: 0, records: 0, events: 0, disorder: 0, bytes: 0, error: undefined, req: undefined };
  page.req = request(url, { agent: false }, (res) => {
    if (res.statusCode !== 200) page.error = `HTTP ${res.statusCode}`;
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d) => {
      page.bytes += d.length;
      buf += d;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!data || block.includes('event: ')) continue;
        page.events++;
        for (const r of JSON.parse(data.slice(6)).records) {
          if (r.id <= page.lastId) page.disorder++;
          page.lastId = r.id;
          page.records++;
        }
      }
    });
  });
  page.req.on('error', (e) => (page.error ??= e.message));
  page.req.end();
  return page;
}

const procStat = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuTicks: Number(f[11]) + Number(f[12]), rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
};
const TICKS = 100; // USER_HZ
const size = (f) => (existsSync(f) ? statSync(f).size : 0);
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runMode(mode) {
  const work = mkdtempSync(join(tmpdir(), 'modnas-bench-ui-load-'));
  const exp = join(work, 'exp');
  mkdirSync(join(exp, 'load'), { recursive: true });
  const db = join(exp, 'load', 'modnas.db');
  const writer = spawn(process.execPath, ['--input-type=module', '-e', WRITER, db, SQLITE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const w = lines(writer);
  const pages = [];
  let ui;
  try {
    const live = Math.min(TRIALS, RATE * SECONDS);
    let t = performance.now();
    writer.stdin.write(`prefill ${TRIALS - live}\n`);
    const pre = JSON.parse(await w.next((l) => l.includes('"prefill"')));
    const prefillS = (performance.now() - t) / 1000;

    ui = spawn(process.execPath, [BIN, 'ui', exp, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const u = lines(ui);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(await u.next((l) => /http:\/\/127\.0\.0\.1:\d+\//.test(l), 60_000))[1];
    const cold = await get(`${url}api/experiments`);
    // the pages open: the run's view, then its events after the view's lastId
    t = performance.now();
    const views = await Promise.all(Array.from({ length: PAGES }, () => get(`${url}api/run?dir=load&run=r1`)));
    const viewsMs = performance.now() - t;
    for (const v of views) if (v.status !== 200) throw new Error(`/api/run: ${v.status} ${v.body.slice(0, 200)}`);
    const viewTrials = JSON.parse(views[0].body).trials.n; // (trials come packed: a column per field)
    const viewMb = views[0].bytes / 2 ** 20;
    // (the view ends with its lastId: read it there rather than parse 30 MB ten times)
    for (const v of views) pages.push(follow(`${url}api/events?dir=load&run=r1&after=${/"lastId":(\d+)\}$/.exec(v.body)[1]}`));
    views.length = 0;
    await sleep(1500);

    // the run writes; the runs list is asked once a second; the ui and the WAL are sampled
    const lat = [];
    const rss = [];
    let walMax = 0;
    const s0 = procStat(ui.pid);
    const t0 = performance.now();
    writer.stdin.write(`live ${RATE} ${SECONDS}\n`);
    let done;
    const liveDone = w.next((l) => l.includes('"live"')).then((l) => (done = JSON.parse(l)));
    let errors = 0;
    while (!done) {
      const tick = performance.now();
      const r = await get(`${url}api/experiments`);
      if (r.status !== 200) errors++;
      lat.push(r.ms);
      rss.push(procStat(ui.pid).rssMb);
      walMax = Math.max(walMax, size(`${db}-wal`));
      await Promise.race([liveDone, sleep(Math.max(0, 1000 - (performance.now() - tick)))]);
    }
    const s1 = procStat(ui.pid);
    const liveS = (performance.now() - t0) / 1000;
    await sleep(3000); // the pages catch up
    const final = done.lastId;
    const walLive = size(`${db}-wal`);
    const last = JSON.parse((await get(`${url}api/experiments`)).body)[0].runs[0];
    writer.stdin.write('close\n');
    await w.next((l) => l.includes('"close"'));
    const walAfterClose = size(`${db}-wal`);
    const result = {
      mode,
      prefill: pre.trials,
      prefillS,
      trials: done.trials,
      listed: last.trials,
      liveTrials: done.trials - pre.trials,
      liveS,
      coldMs: cold.ms,
      viewsMs,
      viewTrials,
      viewMb,
      lat,
      errors,
      cpuPct: ((s1.cpuTicks - s0.cpuTicks) / TICKS / liveS) * 100,
      rssMedian: q(rss, 0.5),
      rssMax: Math.max(...rss),
      hwm: s1.hwmMb,
      walMax,
      walLive,
      walAfterClose,
      pagesComplete: pages.filter((p) => p.lastId === final && p.disorder === 0).length,
      pageRecords: pages.map((p) => p.records),
      pageEvents: pages.map((p) => p.events),
      pageErrors: pages.map((p) => p.error).filter(Boolean),
      final,
    };
    return result;
  } finally {
    for (const p of pages) p.req.destroy();
    ui?.kill('SIGTERM');
    writer.kill();
    if (args.keep !== 'true') rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}

const results = [];
for (const mode of MODES) {
  console.log(`mode ${mode}: ${TRIALS.toLocaleString('en-US')} trials, ${PAGES} pages, ${SECONDS} s at ${RATE} trials/s`);
  const r = await runMode(mode);
  console.log(JSON.stringify({ ...r, lat: r.lat.map((x) => Math.round(x)) }));
  results.push(r);
}

const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MB`;
const ms = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
const n = (x) => x.toLocaleString('en-US');
const row = (r) =>
  `| SqliteStore (\`recordsAfter\`: each poll reads only the new records) | ${ms(q(r.lat, 0.5))} / ${ms(q(r.lat, 0.95))} / ${ms(Math.max(...r.lat))} (${r.lat.length}${r.errors ? `, ${r.errors} failed` : ''}) | ${ms(r.coldMs)} | ${ms(r.viewsMs)} (${r.viewMb.toFixed(0)} MB each) | ${r.cpuPct.toFixed(0)}% | ${r.rssMedian.toFixed(0)} / ${r.rssMax.toFixed(0)} MB (peak ${r.hwm.toFixed(0)} MB) | ${mb(r.walMax)}, ${mb(r.walAfterClose)} after the run closed | ${r.pagesComplete} of ${PAGES}${r.pageErrors.length ? ` (${r.pageErrors.join(', ')})` : ''} |`;
const body = `## The dashboard under load (\`modnas ui\`, issue 25)

\`node bench/ui-load.mjs --write\` (${new Date().toISOString().slice(0, 10)}; ${cpus().length} cores shared, load ${loadavg()[0].toFixed(1)} at the end).
A SQLite run written by its own process: ${n(results[0]?.prefill ?? 0)} trials first, then ${RATE} trials a second for
${SECONDS} s, each its own transaction (${n(results[0]?.trials ?? 0)} trials in the end; 17 choices, score and three metrics
each). \`modnas ui\` (the command, a child process) over it with ${PAGES} pages open on the run, as the page opens one:
\`/api/run\` (${n(results[0]?.viewTrials ?? 0)} trials), then its server-sent events after the view's last record. While the run
writes, \`/api/experiments\` (what the runs list asks every 5 s) is asked once a second and timed; CPU is the ui
process's over that window (from /proc), RSS sampled once a second; the WAL is \`modnas.db-wal\`. A page is
complete when it received every record up to the last, in order and once.

| stores | \`/api/experiments\` while writing: median / p95 / max (requests) | first \`/api/experiments\` (reads the store) | ${PAGES} pages load the run (at once) | ui CPU | ui RSS median / max | WAL: largest while writing, after | pages complete |
|---|---|---|---|---|---|---|---|
${results.map(row).join('\n')}

Before (issue 25, the same ten pages on a 100,000-trial run): \`/api/experiments\` took 16.9 s, the ui reached
954 MB at 88% CPU, and the WAL grew to 99 MB and stayed. Each page re-read every record of the run every 0.5 s
and the dashboard held its database connection open; now one poll per experiment serves every page, the
runs table's counts come from the same reads, and the database is opened for each read and closed after it.
`;
console.log(body);
if (args.write === 'true') console.log(`wrote ${writeSection('ui-load.mjs', body)}`);
if (results.some((r) => r.pagesComplete !== PAGES || r.errors)) process.exitCode = 1;
