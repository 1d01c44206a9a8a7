/** Logging and progress, kept as interfaces so the CLI can draw bars and tests can stay quiet. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export type LogSink = (level: LogLevel, line: string) => void;

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

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One long phase (an epoch, a search): total units, ticks, and a short status. */
export interface ProgressTask {
  tick(n?: number, status?: Record<string, number | string>): void;
  done(status?: Record<string, number | string>): void;
}

export interface ProgressReporter {
  start(phase: string, total: number): ProgressTask;
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

export const silentProgress: ProgressReporter = {
  start: () => ({ tick() {}, done() {} }),
};

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatNum(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}
