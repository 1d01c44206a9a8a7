/** Logging and progress as interfaces, so the CLI can draw bars and tests can stay quiet; the implementations live in @modnas/runtime. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export type LogSink = (level: LogLevel, line: string) => void;

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** One long phase (an epoch, a search): total units, ticks, and a short status. */
export interface ProgressTask {
  tick(n?: number, status?: Record<string, number | string>): void;
  done(status?: Record<string, number | string>): void;
}

export interface ProgressReporter {
  start(phase: string, total: number): ProgressTask;
}

export const silentProgress: ProgressReporter = {
  start: () => ({ tick() {}, done() {} }),
};
