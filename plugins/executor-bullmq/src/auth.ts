/**
 * Who may ask a worker for work: jobs, results and failures on the queue are signed with an
 * HMAC-SHA256 under a secret that the coordinator and its workers share (a file, or an environment
 * variable; never a config value, since configs are stored and shipped in every job). Whoever can
 * write to Redis without the secret can delay or drop jobs, but not make a worker evaluate
 * anything, nor make the coordinator store a result.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModnasError } from '@modnas/core';

export const WORKER_AUTH_CODE = 'MODNAS_E_WORKER_AUTH';
export const SECRET_ENV = 'MODNAS_WORKER_SECRET';
export const SECRET_FILE_ENV = 'MODNAS_WORKER_SECRET_FILE';
export const REDIS_PASSWORD_ENV = 'MODNAS_REDIS_PASSWORD';

/** The shortest secret accepted, in bytes (the fix suggests 32 random bytes, hex). */
export const MIN_SECRET_BYTES = 16;
/** A secret or password file is one line: anything larger is the wrong file. */
const MAX_SECRET_FILE = 4096;
const MAKE_SECRET = 'openssl rand -hex 32 > modnas.secret && chmod 600 modnas.secret';

export interface Secret {
  key: Buffer;
  /** Where it came from (a file name or an environment variable), for the log: never the secret. */
  source: string;
  /** Said once at start: e.g. a file other users can read. */
  warnings: string[];
}

/** One line of a secret file (trimmed), its size checked; the error names the file, never its bytes. */
export function readSecretFile(file: string, what: string, where: string): { value: string; warnings: string[] } {
  const path = resolve(file);
  const fail = (why: string, fix: string, cause?: unknown): ModnasError => new ModnasError(WORKER_AUTH_CODE, `the ${what} file ${file} ${why}`, { fix, where, cause });
  let size: number;
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw fail('is not a file', `give a file that holds the ${what} on one line`);
    size = st.size;
    mode = st.mode;
  } catch (e) {
    if (e instanceof ModnasError) throw e;
    throw fail(`cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, `check the path (relative paths are read from the current folder) and that this user may read it`, e);
  }
  if (size > MAX_SECRET_FILE) throw fail(`is ${size} bytes: a ${what} file holds one line`, `give the file that holds the ${what} (${MAKE_SECRET})`);
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw fail(`cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'check that this user may read it', e);
  }
  const warnings = process.platform !== 'win32' && (mode & 0o077) !== 0 ? [`the ${what} file ${file} can be read by other users of this machine (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}`] : [];
  return { value, warnings };
}

/**
 * The shared secret, from (in this order) the `file` given by the config or command line,
 * MODNAS_WORKER_SECRET_FILE, MODNAS_WORKER_SECRET. None, an unreadable file or a short secret is
 * MODNAS_E_WORKER_AUTH: jobs are never sent or taken unsigned.
 */
export function loadSecret(opts: { file?: string; key: string; env?: NodeJS.ProcessEnv }): Secret {
  const env = opts.env ?? process.env;
  let value: string;
  let source: string;
  let warnings: string[] = [];
  const file = opts.file || env[SECRET_FILE_ENV];
  if (file) {
    source = opts.file ? `${opts.key} ${file}` : `${SECRET_FILE_ENV}=${file}`;
    ({ value, warnings } = readSecretFile(file, 'shared secret', opts.file ? opts.key : SECRET_FILE_ENV));
  } else if (env[SECRET_ENV]) {
    source = SECRET_ENV;
    value = env[SECRET_ENV].trim();
  } else {
    throw new ModnasError(WORKER_AUTH_CODE, 'no shared secret: every job on the queue is signed (HMAC-SHA256) with a secret that the coordinator and its workers share, and none was given, so nothing is sent or taken', {
      fix: `create one (${MAKE_SECRET}) and give the same file to the run (executor: { type: BullMQExecutor, secret_file: modnas.secret }) and to every worker (modnas worker --secret-file modnas.secret), or set ${SECRET_FILE_ENV} (or ${SECRET_ENV}) on both`,
      where: opts.key,
    });
  }
  const key = Buffer.from(value, 'utf8');
  if (key.length < MIN_SECRET_BYTES) {
    throw new ModnasError(WORKER_AUTH_CODE, `the shared secret from ${source} is ${key.length} bytes; it needs at least ${MIN_SECRET_BYTES}`, { fix: `make a longer one: ${MAKE_SECRET}`, where: opts.key });
  }
  return { key, source, warnings };
}

/** JSON with object keys sorted: the same bytes on both sides of the queue for the same content. */
export function canonicalJson(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(sort(v)) ?? 'null';
}

/** Content as it arrives on the other side (BullMQ stores JSON): non-finite numbers become null, undefined keys go. */
export function wireForm<T>(v: T): T {
  return JSON.parse(JSON.stringify(v) ?? 'null') as T;
}

export type SignedKind = 'job' | 'result' | 'failure';

/** HMAC-SHA256 (hex) of one message, bound to its kind, queue and job id (no replay under another id). */
export function sign(key: Buffer, kind: SignedKind, queue: string, jobId: string, body: string): string {
  return createHmac('sha256', key).update(JSON.stringify([`modnas-${kind}-v1`, queue, jobId])).update('\n').update(body).digest('hex');
}

/** Whether `sig` is the signature of this message, compared in constant time. */
export function verify(key: Buffer, kind: SignedKind, queue: string, jobId: string, body: string, sig: unknown): boolean {
  if (typeof sig !== 'string' || !/^[0-9a-f]{64}$/.test(sig)) return false;
  return timingSafeEqual(Buffer.from(sign(key, kind, queue, jobId, body), 'hex'), Buffer.from(sig, 'hex'));
}

/** A job's data with its signature (`sig`, over every other field as it will arrive). */
export function signJob<T extends object>(key: Buffer, queue: string, jobId: string, data: T): T & { sig: string } {
  const wire = wireForm(data);
  return { ...wire, sig: sign(key, 'job', queue, jobId, canonicalJson(wire)) };
}

/** The job's data without its signature when the signature holds over everything else, else undefined. */
export function openJob(key: Buffer, queue: string, jobId: string, raw: unknown): Record<string, unknown> | undefined {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const { sig, ...rest } = raw as Record<string, unknown>;
  return verify(key, 'job', queue, jobId, canonicalJson(rest), sig) ? rest : undefined;
}

const FAILURE_SIG = /\n\[modnas-sig ([0-9a-f]{64})\]$/;

/** A worker's failure reason with its signature appended (BullMQ keeps an error's message as the job's failedReason). */
export function signFailure(key: Buffer, queue: string, jobId: string, reason: string): string {
  return `${reason}\n[modnas-sig ${sign(key, 'failure', queue, jobId, reason)}]`;
}

/** The reason a worker signed, or undefined when the signature is missing or wrong. */
export function openFailure(key: Buffer, queue: string, jobId: string, failedReason: string): string | undefined {
  const m = FAILURE_SIG.exec(failedReason);
  if (!m) return undefined;
  const reason = failedReason.slice(0, m.index);
  return verify(key, 'failure', queue, jobId, reason, m[1]) ? reason : undefined;
}

/** A Redis URL for logs and messages: its password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
}
