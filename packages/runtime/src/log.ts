import type { LogLevel, Logger, LogSink, ProgressReporter, ProgressTask } from '@modnas/core';
import { formatDuration, formatNum } from '@modnas/kit-estim';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger that fans out to sinks (console, a log file), each line stamped with time and level. */
export class SinkLogger implements Logger {
  private readonly sinks: LogSink[] = [];

  constructor(
    private readonly level: LogLevel = 'info',
    sinks: LogSink[] = [],
  ) {
    this.sinks.push(...sinks);
  }

  addSink(sink: LogSink): void {
    this.sinks.push(sink);
  }

  /** Pass each line on to `out` (a console, a caller's logger), without the time and level stamp. */
  forwardTo(out: Logger): void {
    this.addSink((level, line) => out[level](line.replace(/^\S+ \S+\s+/, '')));
  }

  private write(level: LogLevel, msg: string): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
    for (const s of this.sinks) s(level, line);
  }

  debug(msg: string): void {
    this.write('debug', msg);
  }
  info(msg: string): void {
    this.write('info', msg);
  }
  warn(msg: string): void {
    this.write('warn', msg);
  }
  error(msg: string): void {
    this.write('error', msg);
  }
}

/** Reports progress as log lines (every 10% and at the end) with the ETA. Used when no bar is drawn. */
export class LogProgress implements ProgressReporter {
  constructor(private readonly logger: Logger) {}

  start(phase: string, total: number): ProgressTask {
    const t0 = Date.now();
    let done = 0;
    let lastDecile = -1;
    const fmt = (status?: Record<string, number | string>): string =>
      status ? ' ' + Object.entries(status).map(([k, v]) => `${k}=${typeof v === 'number' ? formatNum(v) : v}`).join(' ') : '';
    return {
      tick: (n = 1, status) => {
        done += n;
        const decile = total > 0 ? Math.floor((10 * done) / total) : 0;
        if (decile > lastDecile && done < total) {
          lastDecile = decile;
          const elapsed = (Date.now() - t0) / 1000;
          const eta = done > 0 ? (elapsed * (total - done)) / done : 0;
          this.logger.info(`${phase}: ${done}/${total} (${Math.round((100 * done) / Math.max(total, 1))}%) eta ${formatDuration(eta)}${fmt(status)}`);
        }
      },
      done: (status) => {
        this.logger.info(`${phase}: done in ${formatDuration((Date.now() - t0) / 1000)}${fmt(status)}`);
      },
    };
  }
}
