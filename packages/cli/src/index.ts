export { main, formatSummary } from './main.js';
export type { Io } from './main.js';
export { TtyProgress } from './progress.js';
