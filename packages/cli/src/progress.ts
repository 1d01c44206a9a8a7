import type { ProgressReporter, ProgressTask } from '@modnas/core';
import { formatDuration, formatNum } from '@modnas/kit-estim';

/**
 * A one-line progress bar with ETA for terminals: redrawn in place at most 10 times a second,
 * finished with a plain summary line. Log lines printed meanwhile clear the bar first.
 */
export class TtyProgress implements ProgressReporter {
  private current?: { phase: string; render: () => string };

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  /** Clear the bar (before a log line), then redraw it after. */
  printAbove(line: string): void {
    if (this.current) this.out.write('\r\x1b[2K');
    this.out.write(line + '\n');
    if (this.current) this.out.write(this.current.render());
  }

  start(phase: string, total: number): ProgressTask {
    const t0 = Date.now();
    let done = 0;
    let last = 0;
    let status = '';
    const width = 24;
    const render = (): string => {
      const frac = total > 0 ? Math.min(done / total, 1) : 0;
      const fill = Math.round(frac * width);
      const elapsed = (Date.now() - t0) / 1000;
      const eta = done > 0 ? (elapsed * (total - done)) / done : NaN;
      const cols = this.out.columns ?? 100;
      const line = `${phase} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(Math.round(frac * 100)).padStart(3)}% ${done}/${total} ${formatDuration(elapsed)} eta ${formatDuration(eta)}${status}`;
      return line.length > cols - 1 ? line.slice(0, cols - 1) : line;
    };
    const fmt = (s?: Record<string, number | string>): string =>
      s ? ' ' + Object.entries(s).map(([k, v]) => `${k}=${typeof v === 'number' ? formatNum(v) : v}`).join(' ') : '';
    this.current = { phase, render };
    this.out.write(render());
    return {
      tick: (n = 1, s) => {
        done += n;
        if (s) status = fmt(s);
        const now = Date.now();
        if (now - last >= 100 || done >= total) {
          last = now;
          this.out.write('\r\x1b[2K' + render());
        }
      },
      done: (s) => {
        if (s) status = fmt(s);
        this.out.write(`\r\x1b[2K${phase}: done in ${formatDuration((Date.now() - t0) / 1000)}${status}\n`);
        this.current = undefined;
      },
    };
  }
}
