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

/**
 * The write sites a full disk is simulated at (MODNAS_TEST_DISK_FULL_AT). A site may carry the
 * file's name after a colon ("export:summary.json"); a spec names the site alone ("export", every
 * export) or with the file ("export:summary.json").
 */
export const DISK_SITES = {
  /** A change of the experiment store: a journal line, a SQLite write transaction. */
  store: 'store',
  /** A checkpoint: the journal's payload file, SQLite's checkpoint row. */
  checkpoint: 'checkpoint',
  /** The journal's lock file. */
  lock: 'lock',
  /** A line of logs/run.log. */
  log: 'log',
  /** A record appended live to logs/<stream>.jsonl. */
  append: 'append',
  /** A whole file written from the store: logs/*.jsonl, outputs/config.yaml, outputs/summary.json, outputs/arch_*.yaml. */
  export: 'export',
  /** Events appended to a TensorBoard event file under writers/. */
  writer: 'writer',
} as const;

const diskHits = new Map<string, number>();
/** Bytes the simulated disk still takes; undefined until MODNAS_TEST_DISK_FULL_AT fires. */
let diskRoom: number | undefined;

/**
 * MODNAS_TEST_DISK_FULL_AT=<site>[@<n>] (e.g. "store@20", "checkpoint@5", "export:summary.json@2"):
 * the n-th write (default the 1st) at that site finds the disk nearly full. Call once per write
 * with its size; returns the bytes the disk takes for it. The write that fires gets half its bytes
 * (a short write, as write(2) gives on a nearly full disk), and from then on every write of the
 * process, at any site, gets none (ENOSPC, as a full disk gives) until the process ends: resuming
 * without the variable is "freeing space". Unset, it costs a string compare.
 */
export function testDiskWrite(site: string, bytes: number): number {
  if (diskRoom === undefined) {
    const spec = process.env.MODNAS_TEST_DISK_FULL_AT;
    if (!spec) return bytes;
    const [want, nth = '1'] = spec.split('@');
    if (site !== want && !site.startsWith(`${want}:`)) return bytes;
    const n = (diskHits.get(want) ?? 0) + 1;
    diskHits.set(want, n);
    if (n !== Number(nth)) return bytes;
    diskRoom = Math.floor(bytes / 2);
  }
  const take = Math.min(diskRoom, bytes);
  diskRoom -= take;
  return take;
}

/** Bytes the simulated disk takes now for a write of `bytes` (after testDiskWrite has passed the write). */
export function testDiskRoom(bytes: number): number {
  if (diskRoom === undefined) return bytes;
  const take = Math.min(diskRoom, bytes);
  diskRoom -= take;
  return take;
}
