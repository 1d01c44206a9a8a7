// Test helpers (not shipped: imported by tests only): whether the suite's Redis answers, and the
// rule for services that CI provides (MODNAS_REQUIRE_SERVICES=1: a missing one fails, else skips).
import { connect } from 'node:net';

/** Whether something accepts TCP connections at the host:port of a redis:// URL. */
export function redisAnswers(url: string | undefined, timeoutMs = 1000): Promise<boolean> {
  if (!url) return Promise.resolve(false);
  const u = new URL(url);
  return new Promise((res) => {
    const s = connect({ host: u.hostname, port: Number(u.port || 6379) });
    const done = (ok: boolean): void => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export const servicesRequired = process.env.MODNAS_REQUIRE_SERVICES === '1';
