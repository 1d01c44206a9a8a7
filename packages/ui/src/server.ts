/**
 * `modnas ui`: a read-only HTTP server (node:http; a handful of GET routes need no framework) over
 * the stores under one folder. The page and its scripts are built into dist/page at package build
 * time and served from there: the page makes no request outside this server. Live updates are
 * server-sent events fed by one poll per experiment, whatever the number of pages watching it.
 *
 * Every request is checked before it is routed: the Host header must name this server (a page on
 * another site cannot reach it through DNS rebinding), only GET and HEAD are answered, and beyond
 * loopback the token must come with it (?token=, then a cookie). Every response carries the
 * security headers, and no response names a path of this machine.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Registry } from '@modnas/core';
import { ModnasError, isModnasError } from '@modnas/core';
import type { LiveUpdate } from './data.js';
import { StoreSet } from './data.js';
import { packView } from './view.js';
import { pageAsset } from './page-assets.js';
import { SECURITY_HEADERS, allowedHostNames, cookieValue, hostAllowed, isLoopback, isWildcard, makeToken, redactPaths, tokenMatches } from './security.js';

export interface UiServerOptions {
  folder: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** The address to bind (default 127.0.0.1: this machine only). Beyond loopback a token is required. */
  host?: string;
  /** How often watched runs are read (ms, default 500). */
  pollMs?: number;
  /** Where the store plugins are found (default: discovered from the current project). */
  registry?: Registry;
  /** The token requests must carry (default: a random one when bound beyond loopback, none on loopback). */
  token?: string;
  /** More names the Host header may carry: this machine's DNS names, a reverse proxy's. */
  allowHosts?: string[];
  /** The most pages watching runs at once (default 64); more get 503. */
  maxLiveStreams?: number;
}

export interface UiServer {
  /** The dashboard's address (without the token). */
  url: string;
  /** Every address it answers at (bound to every interface: this machine's name, then loopback). */
  urls: string[];
  port: number;
  host: string;
  /** Bound beyond loopback: other machines can connect (with the token). */
  remote: boolean;
  /** Required with every request when set: open `${url}?token=${token}` once, a cookie keeps it. */
  token?: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
/** A page that stops reading its live updates is cut off past this much unsent data (EventSource reconnects with Last-Event-ID). */
const MAX_BUFFERED = 16 * 2 ** 20;

const HTTP_STATUS: Record<string, number> = {
  MODNAS_E_UI_NOT_FOUND: 404,
  MODNAS_E_UI_TOKEN: 401,
  MODNAS_E_UI_HOST: 403,
  MODNAS_E_UI_BUSY: 503,
};

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const host = o.host ?? '127.0.0.1';
  const pollMs = o.pollMs ?? 500;
  const maxLive = o.maxLiveStreams ?? 64;
  const stores = await StoreSet.open(o.folder, o.registry, { pollMs });
  const remote = !isLoopback(host);
  const token = o.token ?? (remote ? makeToken() : undefined);
  const hostNames = allowedHostNames(host, o.allowHosts);
  const streams = new Set<ServerResponse>();
  const stops = new Set<() => void>();
  /**
   * /api/run bodies, shared by the pages that load a run (they continue from its lastId): one buffer for
   * them all, not a copy per response; within a poll interval served as is, after it served again when
   * the run's view has not changed (a finished run's JSON is made once), dropped when not asked for.
   */
  const views = new Map<string, { body: Buffer; stamp: string; at: number }>();
  let port = 0;
  let cookie = 'modnas_ui';

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
    res.end(body);
  };
  const json = (res: ServerResponse, body: unknown, status = 200): void => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
  const fail = (res: ServerResponse, e: unknown): void => {
    const code = isModnasError(e) ? e.code : 'MODNAS_E_UI_INTERNAL';
    const fix = isModnasError(e) ? e.fix : undefined;
    const message = redactPaths(e instanceof Error ? e.message : String(e), stores.root);
    if (res.headersSent) {
      res.end();
      return;
    }
    json(res, { error: message, code, ...(fix ? { fix: redactPaths(fix, stores.root) } : {}) }, HTTP_STATUS[code] ?? 500);
  };

  const runJson = (dir: string, run: string): Buffer => {
    const key = `${dir}\0${run}`;
    const now = Date.now();
    const hit = views.get(key);
    if (hit && now - hit.at < pollMs) return hit.body;
    for (const [k, v] of views) if (now - v.at >= pollMs * 20) views.delete(k);
    // the view is brought up to date from its new records; its JSON is made again only when it changed
    const view = stores.runView(dir, run);
    const stamp = JSON.stringify([view.lastId, view.run, view.arch.map((a) => [a.name, a.text.length])]);
    if (hit && hit.stamp === stamp) {
      hit.at = now;
      return hit.body;
    }
    const body = Buffer.from(JSON.stringify(packView(view)));
    views.set(key, { body, stamp, at: Date.now() });
    return body;
  };

  const events = (req: IncomingMessage, res: ServerResponse, dir: string, run: string, after: number): void => {
    if (streams.size >= maxLive) throw new ModnasError('MODNAS_E_UI_BUSY', `${streams.size} pages are watching runs already (the most this server keeps)`, { fix: 'close a dashboard tab, or start modnas ui with a higher limit (maxLiveStreams)' });
    let open = false;
    const write = (u: LiveUpdate): void => {
      if (res.destroyed) return;
      if (!open) {
        open = true;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write('retry: 1000\n\n');
        streams.add(res);
      }
      if (u.failure !== undefined) res.write(`event: failure\ndata: ${JSON.stringify({ message: u.failure })}\n\n`);
      else if (u.reset) res.write(`event: reset\ndata: ${JSON.stringify({ run: u.run })}\n\n`);
      else {
        const last = u.records.length ? `id: ${u.records[u.records.length - 1].id}\n` : '';
        res.write(`${last}data: ${JSON.stringify(u)}\n\n`);
      }
      if (res.writableLength > MAX_BUFFERED) res.destroy();
    };
    const stop = stores.follow(dir, run, after, write); // unknown dir or run: throws before the stream opens
    stops.add(stop);
    const end = (): void => {
      stop();
      stops.delete(stop);
      streams.delete(res);
    };
    if (req.destroyed || res.destroyed) end();
    else res.on('close', end);
  };

  /** The token sent with the request: ?token=, then the cookie, then an Authorization: Bearer header. */
  const givenToken = (req: IncomingMessage, url: URL): string | undefined => {
    const q = url.searchParams.get('token');
    if (q !== null) return q;
    const c = cookieValue(req.headers.cookie, cookie);
    if (c !== undefined) return c;
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return auth?.[1];
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    if (!hostAllowed(req.headers.host, hostNames, port)) {
      json(res, { error: 'the Host header does not name this server (only the addresses it listens on are answered)', code: 'MODNAS_E_UI_HOST', fix: 'open the address modnas ui printed; for a DNS name or a proxy start it with --allow-host <name>' }, 403);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'read-only', { allow: 'GET, HEAD' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    const q = (k: string): string => url.searchParams.get(k) ?? '';
    if (p === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (token !== undefined) {
      if (!tokenMatches(givenToken(req, url), token)) {
        if (p.startsWith('/api/')) json(res, { error: 'this dashboard needs its token', code: 'MODNAS_E_UI_TOKEN', fix: 'open the URL with ?token= that modnas ui printed when it started' }, 401);
        else send(res, 401, TYPES['.html'], '<!doctype html><meta charset="utf-8"><title>modnas ui</title><p>This dashboard needs its token: open the URL with <code>?token=</code> that <code>modnas ui</code> printed when it started.</p>');
        return;
      }
      if (url.searchParams.has('token')) {
        res.setHeader('set-cookie', `${cookie}=${token}; Path=/; HttpOnly; SameSite=Strict`);
        if (p === '/' || p === '/index.html') {
          // the token leaves the address bar (and the history) for the cookie
          url.searchParams.delete('token');
          send(res, 303, 'text/plain; charset=utf-8', '', { location: `${p}${url.search}` });
          return;
        }
      }
    }
    try {
      if (p === '/' || p === '/index.html') send(res, 200, TYPES['.html'], pageAsset('index.html'));
      else if (p === '/app.js' || p === '/app.css') {
        res.writeHead(200, { 'content-type': TYPES[p.slice(p.lastIndexOf('.'))] });
        res.end(pageAsset(p === '/app.js' ? 'app.js' : 'app.css'));
      } else if (p === '/api/experiments') json(res, await stores.experiments());
      else if (p === '/api/run') send(res, 200, 'application/json; charset=utf-8', runJson(q('dir'), q('run')));
      else if (p === '/api/events') events(req, res, q('dir'), q('run'), Math.max(Number(q('after')) || 0, Number(req.headers['last-event-id']) || 0));
      else if (p === '/api/arch') {
        const name = q('name');
        const text = stores.archText(q('dir'), name);
        send(res, 200, 'text/yaml; charset=utf-8', text, { 'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(name)}`, 'content-security-policy': "default-src 'none'; sandbox" });
      } else json(res, { error: `no route ${p.slice(0, 200)}`, code: 'MODNAS_E_UI_NOT_FOUND' }, 404);
    } catch (e) {
      fail(res, e);
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res).catch((e: unknown) => fail(res, e)));
  await new Promise<void>((ok, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      stores.close();
      if (e.code === 'EADDRINUSE') reject(new ModnasError('MODNAS_E_UI_PORT_IN_USE', `port ${o.port} on ${host} is in use`, { fix: `pick another with --port (or --port 0 for any free port)`, cause: e }));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES') reject(new ModnasError('MODNAS_E_UI_LISTEN', `cannot listen on ${host}:${o.port}: ${e.message}`, { fix: 'use --host 127.0.0.1 and a port above 1023', cause: e }));
      else reject(e);
    });
    server.listen(o.port ?? 8080, host, () => ok());
  });
  port = (server.address() as AddressInfo).port;
  cookie = `modnas_ui_${port}`;
  stores.prefetch(); // the newest runs' views, read in the background before a page asks for them
  const shown = (h: string): string => (h.includes(':') ? `[${h}]` : h);
  const urls = isWildcard(host) ? [`http://${hostname().toLowerCase()}:${port}/`, `http://127.0.0.1:${port}/`] : [`http://${shown(host)}:${port}/`];
  return {
    url: urls[urls.length - 1],
    urls,
    port,
    host,
    remote,
    ...(token === undefined ? {} : { token }),
    close: () =>
      new Promise<void>((ok) => {
        for (const stop of stops) stop();
        for (const s of streams) s.end();
        server.close(() => ok());
        server.closeAllConnections();
        stores.close();
      }),
  };
}
