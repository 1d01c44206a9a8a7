export type { UiServer, UiServerOptions } from './server.js';
export { startUiServer } from './server.js';
export type { HtmlReportOptions } from './report.js';
export { renderHtmlReport, writeHtmlReport } from './report.js';
export { StoreSet } from './data.js';
export type { ArchFile, AlphaPoint, EpochPoint, ExperimentEntry, RecordIn, RunEntry, RunState, RunView, Trial } from './view.js';
export { bestSoFar, costKeys, foldRecord, meanStd, paretoFront } from './view.js';
