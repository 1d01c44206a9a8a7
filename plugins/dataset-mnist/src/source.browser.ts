/**
 * Where MNIST comes from in a browser: the four idx files (plain, or .gz where the plain one is
 * missing) fetched from `data.path`, a URL relative to the page ('' = `mnist/`, where a page built
 * with it puts them); nothing is cached but the decoded images, for the tab's life.
 */
import type { Logger } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import type { Decoded, MnistConfig } from './images.js';
import { FILES, decodeIdx } from './images.js';

async function fetchIdx(base: string, name: string): Promise<{ url: string; bytes: Uint8Array }> {
  const plain = new URL(name, base).href;
  const res = await fetch(plain).catch(() => undefined);
  if (res?.ok) return { url: plain, bytes: new Uint8Array(await res.arrayBuffer()) };
  const gz = `${plain}.gz`;
  const zipped = await fetch(gz).catch(() => undefined);
  if (!zipped?.ok || !zipped.body) {
    throw new ModnasError('MODNAS_E_DATA_MISSING', `MNIST: ${plain} (or ${gz}) could not be fetched (${res ? `HTTP ${res.status}` : 'network error'})`, {
      fix: `serve ${Object.values(FILES).join(', ')} (or their .gz) at data.path (a URL relative to the page; '' = mnist/)`,
      where: 'data.path',
    });
  }
  return { url: gz, bytes: new Uint8Array(await new Response(zipped.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer()) };
}

export async function readMnist(c: MnistConfig, logger: Logger): Promise<Decoded> {
  const page = (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/';
  const base = new URL(c.path ? (c.path.endsWith('/') ? c.path : `${c.path}/`) : 'mnist/', page).href;
  const keys = Object.keys(FILES) as Array<keyof typeof FILES>;
  const got = await Promise.all(keys.map((k) => fetchIdx(base, FILES[k])));
  logger.debug(`MNIST: ${got.map((g) => g.url).join(', ')}`);
  const pick = <T>(f: (g: { url: string; bytes: Uint8Array }) => T): Record<keyof typeof FILES, T> => Object.fromEntries(keys.map((k, i) => [k, f(got[i])])) as Record<keyof typeof FILES, T>;
  return decodeIdx(pick((g) => g.bytes), pick((g) => g.url), c);
}
