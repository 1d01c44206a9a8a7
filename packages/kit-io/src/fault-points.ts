const hits = new Map<string, number>();

/**
 * MODNAS_TEST_KILL_AT=<point>[@<n>] (e.g. "step:warmup@5", "checkpoint@3", "export@1",
 * "estim-end:warmup"): SIGKILL this process the n-th time (default the 1st) the point is reached.
 * The fault suite uses it to kill at exact places; unset, it costs a string compare.
 */
export function testKillPoint(point: string): void {
  const spec = process.env.MODNAS_TEST_KILL_AT;
  if (!spec) return;
  const [want, nth = '1'] = spec.split('@');
  if (want !== point) return;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  if (n === Number(nth)) process.kill(process.pid, 'SIGKILL');
}
