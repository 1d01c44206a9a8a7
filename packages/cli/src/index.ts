export { main, formatSummary } from './main.js';
export type { Io } from './io.js';
export { TtyProgress } from './progress.js';
