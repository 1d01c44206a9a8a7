/**
 * The page: starts the search (search.ts) on a click or on load (`?autostart=1`), shows its log and
 * progress, then the found architecture and the ONNX download. `?budget=test` runs the CI test's
 * short search; `?backend=webgpu|webgl|cpu` forces a backend. What the test reads is on
 * window.modnasSearch.
 */
import type { LogLevel, Logger } from '@modnas/core';
import { EventBus } from '@modnas/core';
import type { BackendName, Budget, SearchOutcome } from './search.js';
import { BUDGETS, chooseBackend, search } from './search.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const budget: Budget = params.get('budget') === 'test' ? 'test' : 'tab';
const state: { status: string; backend?: string; adapter?: string; lines: string[]; error?: { code?: string; message: string }; result?: Omit<SearchOutcome, 'run' | 'onnx'> & { onnxBytes: number; meta: unknown; seconds: number } } = { status: 'idle', lines: [] };
(window as unknown as { modnasSearch: typeof state }).modnasSearch = state;

function setState(s: string): void {
  state.status = s;
  document.body.dataset.state = s;
}

const logger: Logger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as LogLevel[]).map((level) => [
    level,
    (msg: string) => {
      if (level === 'debug') return;
      const line = `${level === 'info' ? '' : level + ': '}${msg}`;
      state.lines.push(line);
      const log = $('log');
      log.append(line + '\n');
      log.scrollTop = log.scrollHeight;
    },
  ]),
) as unknown as Logger;

function describeBudget(): string {
  const b = BUDGETS[budget];
  return `${b.data_provider.train_size.toLocaleString('en-US')} training and ${b.data_provider.valid_size.toLocaleString('en-US')} validation images, ${b.warmup} warm-up + ${b.search} search epoch(s), batch ${b.batch}${budget === 'test' ? ' (the CI test\'s)' : ''}`;
}

let stopper: AbortController | undefined;

async function start(): Promise<void> {
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  setState('running');
  stopper = new AbortController();
  const t0 = Date.now();
  try {
    const want = (params.get('backend') || $<HTMLSelectElement>('want').value || undefined) as BackendName | undefined;
    const { backend, adapter, tried } = await chooseBackend(want);
    state.backend = backend;
    state.adapter = adapter;
    $('backend').textContent = `${backend}${backend === 'webgpu' ? ` (${adapter})` : ''}${tried.length ? `; not: ${tried.join('; ')}` : ''}`;
    logger.info(`backend: ${backend}${backend === 'webgpu' ? ` on ${adapter}` : ''}`);
    const events = new EventBus();
    const bar = $<HTMLProgressElement>('bar');
    events.on('step:end', (e) => {
      bar.value = e.step / e.steps;
      $('status').textContent = `${e.estim}: epoch ${e.epoch + 1}, step ${e.step} of ${e.steps}${e.metrics.loss !== undefined ? `, loss ${e.metrics.loss.toFixed(3)}` : ''}`;
    });
    const out = await search(budget, backend, { logger, events, signal: stopper.signal });
    showResult(out, (Date.now() - t0) / 1000);
    await out.run.dispose();
    setState('done');
    $('status').textContent = `done in ${((Date.now() - t0) / 1000).toFixed(0)} s`;
  } catch (e) {
    const err = e as { code?: string; message: string; fix?: string };
    state.error = { code: err.code, message: err.message };
    $('error').textContent = `${err.code ? err.code + ': ' : ''}${err.message}`;
    setState('error');
  } finally {
    $<HTMLButtonElement>('start').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

function showResult(out: SearchOutcome, seconds: number): void {
  const arch = $('arch');
  arch.innerHTML = '';
  const desc = Array.isArray(out.arch) ? out.arch : Object.entries((out.arch ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`);
  desc.forEach((d, i) => {
    const li = document.createElement('li');
    const k = document.createElement('span');
    k.textContent = `block ${i}`;
    k.className = 'k';
    li.append(k, String(d));
    arch.append(li);
  });
  const last = Object.values(out.run.estims).pop();
  const rows: Array<[string, string]> = [
    ['validation accuracy', `${(out.accuracy * 100).toFixed(2)}% (the chosen subnetwork, ${out.run.data.valid.size.toLocaleString('en-US')} images)`],
    ['search space', `${BigInt(out.run.spaceSize).toLocaleString('en-US')} architectures`],
    ['supernet weights', out.run.numParams.toLocaleString('en-US')],
    ['search score', last?.best ? last.best.score.toFixed(4) : 'n/a'],
    ['time', `${seconds.toFixed(0)} s`],
  ];
  const dl = $('result');
  dl.innerHTML = '';
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
  const links = $('downloads');
  links.innerHTML = '';
  const onnx = out.onnx.files[0];
  const meta = JSON.stringify(out.onnx.meta, null, 2) + '\n';
  for (const [name, data, type] of [
    [onnx.name, onnx.data, 'application/octet-stream'],
    ['modnas.json', meta, 'application/json'],
  ] as const) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([data as BlobPart], { type }));
    a.download = name;
    a.textContent = `download ${name}`;
    a.id = `download-${name.replace('.', '-')}`;
    links.append(a);
  }
  const { run: _run, onnx: _onnx, ...rest } = out;
  state.result = { ...rest, onnxBytes: (onnx.data as Uint8Array).length, meta: out.onnx.meta, seconds };
}

$('budget').textContent = describeBudget();
$('start').addEventListener('click', () => void start());
$('stop').addEventListener('click', () => stopper?.abort('stopped from the page'));
if (params.get('autostart') === '1') void start();
