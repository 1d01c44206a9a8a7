/**
 * `modnas ui`: a read-only HTTP server (node:http; a handful of GET routes need no framework) over
 * the stores under one folder. The page and its scripts are built into dist/page at package build
 * time and served from there: the page makes no request outside this server. Live updates are
 * server-sent events: every `pollMs` the server reads the store's newest record id and sends the
 * run's new records.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from '@modnas/core';
import { ModnasError, isModnasError } from '@modnas/core';
import { StoreSet } from './data.js';
import { pageAsset } from './page-assets.js';

export interface UiServerOptions {
  folder: string;
  port?: number;
  host?: string;
  /** How often live views read the store (ms). */
  pollMs?: number;
  /** Where the store plugins are found (default: discovered from the current project). */
  registry?: Registry;
}

export interface UiServer {
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png' };

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const stores = await StoreSet.open(o.folder, o.registry);
  const host = o.host ?? '127.0.0.1';
  const pollMs = o.pollMs ?? 500;
  const streams = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();

  const json = (res: ServerResponse, body: unknown, status = 200): void => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  const events = (req: IncomingMessage, res: ServerResponse, dir: string, run: string, after: number): void => {
    stores.updates(dir, run, after); // unknown dir or run: throws before the stream opens
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    streams.add(res);
    let last = after;
    let lastRun = '';
    const tick = (): void => {
      try {
        const u = stores.updates(dir, run, last);
        // the duration ticks on while a run runs: a bare status message every 5 s is enough for it
        const runText = JSON.stringify({ status: u.run.status, end: u.run.end, t: Math.floor(u.run.seconds / 5) });
        if (u.records.length === 0 && runText === lastRun) return;
        if (u.records.length) last = u.records[u.records.length - 1].id;
        lastRun = runText;
        res.write(`data: ${JSON.stringify(u)}\n\n`);
      } catch (e) {
        res.write(`event: failure\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
      }
    };
    tick();
    const timer = setInterval(tick, pollMs);
    timers.add(timer);
    req.on('close', () => {
      clearInterval(timer);
      timers.delete(timer);
      streams.delete(res);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end('read-only');
      return;
    }
    const q = (k: string): string => url.searchParams.get(k) ?? '';
    try {
      const p = url.pathname;
      if (p === '/' || p === '/index.html') {
        res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' });
        res.end(pageAsset('index.html'));
      } else if (p === '/app.js' || p === '/app.css') {
        res.writeHead(200, { 'content-type': TYPES[p.slice(p.lastIndexOf('.'))] });
        res.end(pageAsset(p === '/app.js' ? 'app.js' : 'app.css'));
      } else if (p === '/favicon.ico') {
        res.writeHead(204);
        res.end();
      } else if (p === '/api/experiments') {
        await stores.refresh(); // experiments started since
        json(res, stores.experiments());
      }
      else if (p === '/api/run') json(res, stores.runView(q('dir'), q('run')));
      else if (p === '/api/events') events(req, res, q('dir'), q('run'), Number(q('after')) || 0);
      else if (p === '/api/arch') {
        const text = stores.archText(q('dir'), q('name'));
        res.writeHead(200, { 'content-type': 'text/yaml; charset=utf-8', 'content-disposition': `inline; filename="${q('name')}"` });
        res.end(text);
      } else json(res, { error: `no route ${p}` }, 404);
    } catch (e) {
      json(res, { error: (e as Error).message, code: isModnasError(e) ? e.code : undefined }, isModnasError(e) && e.code === 'MODNAS_E_UI_NOT_FOUND' ? 404 : 500);
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      stores.close();
      if (e.code === 'EADDRINUSE') fail(new ModnasError('MODNAS_E_UI_PORT_IN_USE', `port ${o.port} on ${host} is in use`, { fix: `pick another with --port (or --port 0 for any free port)`, cause: e }));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES') fail(new ModnasError('MODNAS_E_UI_LISTEN', `cannot listen on ${host}:${o.port}: ${e.message}`, { fix: 'use --host 127.0.0.1 and a port above 1023', cause: e }));
      else fail(e);
    });
    server.listen(o.port ?? 8080, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    host,
    close: () =>
      new Promise<void>((ok) => {
        for (const t of timers) clearInterval(t);
        for (const s of streams) s.end();
        server.close(() => ok());
        server.closeAllConnections();
        stores.close();
      }),
  };
}
