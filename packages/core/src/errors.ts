/**
 * Every error that @modnas raises on purpose. `code` is stable (MODNAS_E_<AREA>_<WHAT>) so that
 * tools can match on it; the message says what failed, the likely cause and the fix.
 */
export interface ModnasErrorOptions {
  /** The exact fix, e.g. a command to run or a key to change. */
  fix?: string;
  /** Where the bad input was referenced: a file, a config key, a package. */
  where?: string;
  cause?: unknown;
}

export class ModnasError extends Error {
  override readonly name = 'ModnasError';
  readonly code: string;
  readonly fix?: string;
  readonly where?: string;

  constructor(code: string, message: string, options: ModnasErrorOptions = {}) {
    super(composeMessage(message, options), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fix = options.fix;
    this.where = options.where;
  }
}

function composeMessage(message: string, { fix, where }: ModnasErrorOptions): string {
  let out = message;
  if (where) out += `\n  where: ${where}`;
  if (fix) out += `\n  fix:   ${fix}`;
  return out;
}

export function isModnasError(e: unknown): e is ModnasError {
  return e instanceof Error && (e as { name?: string }).name === 'ModnasError' && typeof (e as ModnasError).code === 'string';
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/** Up to `max` candidates close to `name` (by edit distance or substring), best first. */
export function closeMatches(name: string, candidates: Iterable<string>, max = 3): string[] {
  const scored: Array<[string, number]> = [];
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(name, c);
    const cl = c.toLowerCase();
    const sub = cl.includes(lower) || lower.includes(cl);
    if (d <= Math.max(2, Math.floor(name.length / 3)) || sub) scored.push([c, sub ? Math.min(d, 1) : d]);
  }
  return scored.sort((p, q) => p[1] - q[1] || p[0].localeCompare(q[0])).slice(0, max).map(([c]) => c);
}
