/**
 * What the dashboard's server checks and sends on every request, kept apart from the routes: the
 * Host header against the addresses it listens on (a web page cannot reach it through DNS
 * rebinding), the token when it serves beyond this machine (as Jupyter does: a URL with ?token=,
 * then a cookie), the security headers, and error text without the machine's absolute paths.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { homedir, hostname, networkInterfaces, tmpdir } from 'node:os';
import { basename, sep } from 'node:path';

/** Sent with every response: the page loads only this server's script and styles, nothing is framed, sniffed or referred. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

export const isWildcard = (host: string): boolean => WILDCARD.has(host);

/** A host name as it appears in a Host header: lower case, IPv6 in brackets. */
function hostForm(name: string): string {
  const h = name.toLowerCase();
  return h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
}

/**
 * The names a Host header may carry for a server bound to `bind`: the bound address; for loopback
 * also localhost, 127.0.0.1 and [::1]; for every interface (0.0.0.0, ::) every local address and
 * this machine's name; plus `extra` (DNS names or a proxy's, --allow-host).
 */
export function allowedHostNames(bind: string, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>(extra.map(hostForm));
  if (isWildcard(bind)) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(hostForm(a.address.replace(/%.*$/, '')));
    const name = hostname().toLowerCase();
    names.add(name);
    names.add(name.split('.')[0]);
    names.add('localhost');
  } else {
    names.add(hostForm(bind));
  }
  if (isLoopback(bind) || isWildcard(bind)) for (const n of ['localhost', '127.0.0.1', '[::1]']) names.add(n);
  return names;
}

/** Whether a Host header names this server: one of `names`, at the port it listens on (80 when none is given). */
export function hostAllowed(header: string | undefined, names: ReadonlySet<string>, port: number): boolean {
  if (!header) return false;
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!m) return false;
  const p = m[2] === undefined ? 80 : Number(m[2]);
  return p === port && names.has(m[1].toLowerCase().replace(/\.$/, ''));
}

/** A token for the URL that unlocks the dashboard (192 random bits). */
export const makeToken = (): string => randomBytes(24).toString('base64url');

/** Compare a token in constant time (the digests have equal length whatever was sent). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined || given === '') return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Text for a response without this machine's absolute paths: the folder served becomes its own
 * name, the working folder ".", the home folder "~", the temporary folder "$TMPDIR".
 */
export function redactPaths(text: string, root: string): string {
  let out = text.split(root + sep).join(`${basename(root)}/`).split(root).join(basename(root) || '.');
  const cwd = process.cwd();
  if (cwd !== sep) out = out.split(cwd + sep).join('').split(cwd).join('.');
  const home = homedir();
  if (home && home !== sep) out = out.split(home).join('~');
  const tmp = tmpdir();
  if (tmp && tmp !== sep) out = out.split(tmp).join('$TMPDIR');
  return out;
}
