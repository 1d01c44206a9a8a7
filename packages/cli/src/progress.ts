import type { ProgressReporter, ProgressTask } from '@modnas/core';
import { formatDuration, formatNum } from '@modnas/kit-estim';

const CLEAR = '\r\x1b[2K';

/**
 * A one-line progress bar with ETA for terminals: redrawn in place at most 10 times a second,
 * finished with a plain summary line. Bars nest (an estimator's epochs, an epoch's steps): the
 * innermost open one is drawn, and when it finishes the one it interrupted is drawn again. A log
 * line printed meanwhile clears the bar's line first and redraws the bar under it.
 */
export class TtyProgress implements ProgressReporter {
  /** Open bars, innermost last; the last one is the line on screen. */
  private readonly open: Array<{ phase: string; render: () => string }> = [];

  constructor(private readonly out: Pick<NodeJS.WriteStream, 'write' | 'columns'> = process.stderr) {}

  private get current(): { phase: string; render: () => string } | undefined {
    return this.open.at(-1);
  }

  /** Clear the bar (before a log line), then redraw it after. */
  printAbove(line: string): void {
    const bar = this.current;
    this.out.write((bar ? CLEAR : '') + line + '\n' + (bar ? bar.render() : ''));
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
    const self = { phase, render };
    // an outer bar on screen gives its line to this one
    this.out.write((this.current ? CLEAR : '') + render());
    this.open.push(self);
    return {
      tick: (n = 1, s) => {
        done += n;
        if (s) status = fmt(s);
        const now = Date.now();
        // an outer bar keeps counting while an inner one is drawn; it shows again when that finishes
        if (this.current === self && (now - last >= 100 || done >= total)) {
          last = now;
          this.out.write(CLEAR + render());
        }
      },
      done: (s) => {
        if (s) status = fmt(s);
        const i = this.open.indexOf(self);
        if (i < 0) return;
        this.open.splice(i, 1);
        // the line on screen (this bar, or an inner one still open) makes room for the summary, then the innermost open bar is drawn again
        this.out.write(`${CLEAR}${phase}: done in ${formatDuration((Date.now() - t0) / 1000)}${status}\n${this.current?.render() ?? ''}`);
      },
    };
  }
}
