/**
 * `modnas ui` and `modnas report --html`: thin wrappers over @modnas/ui, imported only when one of
 * them runs (the other commands never load the dashboard).
 */
import { resolve } from 'node:path';
import { ModnasError } from '@modnas/core';
import { parse } from './args.js';
import type * as Ui from '@modnas/ui';
import type { Io } from './io.js';

export const UI_HELP = `Usage: modnas ui [folder] [--port N] [--host 127.0.0.1] [--allow-host NAME]

A local, read-only dashboard over the experiment stores (journal.jsonl, modnas.db) in the folder and the folders
under it (default: exp): runs with status, backend, duration and best score; one run live while
it runs (curves per estimator and epoch, best score so far, the trials, score against FLOPs /
params / latency with the Pareto front, softmax(α) per mixed op, the architecture found); runs
side by side. Every asset is served by this process: the page makes no outside request.

Options:
  --port <N>           port to listen on (default 8080; 0 picks a free one)
  --host <addr>        address to bind (default 127.0.0.1, this machine only). Any other address
                       (0.0.0.0: every interface) requires a token: open the printed URL with
                       ?token= once, a cookie keeps it (MODNAS_UI_TOKEN sets the token)
  --allow-host <name>  another name the browser may use for this server (a DNS name, a proxy);
                       repeat or separate by commas. Requests naming any other host get 403`;

export const REPORT_HTML_HELP = `  modnas report <experiment-dir> --html <out.html> [--run rN]
    writes the run view (default: the newest run) as one self-contained file that renders offline`;

async function loadUi(): Promise<typeof Ui> {
  try {
    return await import('@modnas/ui');
  } catch (e) {
    throw new ModnasError('MODNAS_E_CLI_UI_MISSING', `the dashboard package @modnas/ui could not be loaded: ${(e as Error).message}`, { fix: 'npm i @modnas/ui (it comes with @modnas/cli; reinstall if it is missing)', cause: e });
  }
}

/** Serve until SIGINT/SIGTERM; `stop` (tests) ends it too. */
export async function uiCommand(argv: string[], io: Io, stop?: AbortSignal): Promise<number> {
  const { values, positionals } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, 'allow-host': { type: 'string', multiple: true }, debug: { type: 'boolean' } }, UI_HELP);
  if (values.help) {
    io.out(UI_HELP);
    return 0;
  }
  const port = values.port === undefined ? 8080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ModnasError('MODNAS_E_CLI_USAGE', `--port must be an integer from 0 to 65535, got ${String(values.port)}`, { fix: 'e.g. --port 8080' });
  const { startUiServer } = await loadUi();
  const folder = resolve(positionals[0] ?? 'exp');
  const allowHosts = ((values['allow-host'] as string[] | undefined) ?? []).flatMap((h) => h.split(',')).map((h) => h.trim()).filter(Boolean);
  const token = process.env.MODNAS_UI_TOKEN || undefined;
  const server = await startUiServer({ folder, port, host: (values.host as string | undefined) ?? '127.0.0.1', allowHosts, ...(token ? { token } : {}) });
  if (server.remote) {
    io.err(
      `warning: modnas ui listens on ${server.host}, beyond this machine: whoever can reach port ${server.port} and has the token can read the experiments under ${folder}, over unencrypted HTTP. ` +
        `To reach it from another machine without that, keep the default --host and tunnel: ssh -L ${server.port}:127.0.0.1:${server.port} <this host>`,
    );
  }
  const open = (url: string): string => (server.token ? `${url}?token=${server.token}` : url);
  io.out(`modnas ui: ${open(server.url)} (experiments under ${folder}; Ctrl-C to stop)`);
  for (const url of server.urls) if (url !== server.url) io.out(`           ${open(url)}`);
  await new Promise<void>((done) => {
    const end = (): void => {
      process.off('SIGINT', end);
      process.off('SIGTERM', end);
      done();
    };
    process.on('SIGINT', end);
    process.on('SIGTERM', end);
    stop?.addEventListener('abort', end);
  });
  await server.close();
  return 0;
}

/** `modnas report <dir> --html out.html [--run rN]`. */
export async function htmlReportCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { html: { type: 'string' }, run: { type: 'string' }, debug: { type: 'boolean' } }, REPORT_HTML_HELP);
  const dir = positionals[0];
  if (!dir || !values.html) throw new ModnasError('MODNAS_E_CLI_USAGE', 'modnas report --html needs an experiment folder and an output file', { fix: 'modnas report exp/<name> --html report.html' });
  const { writeHtmlReport } = await loadUi();
  const r = await writeHtmlReport({ folder: dir, out: String(values.html), run: values.run as string | undefined });
  io.out(`report of run ${r.run}: ${r.file} (${(r.bytes / 1024).toFixed(0)} KiB, self-contained)`);
  return 0;
}
