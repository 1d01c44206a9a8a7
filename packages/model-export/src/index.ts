export * from './browser.js';
export type { ExportOptions, ExportResult, ExportedFile } from './export.js';
export { exportExperiment, parseFormats } from './export.js';
export { readMeta } from './read-meta.js';
export type { ExportedModel } from './run-exported.js';
export { openExported } from './run-exported.js';
export type { Prediction, PredictFailure } from './predict.js';
export { formatPrediction, listImages, openModel, predictFiles, resolveModelDir } from './predict.js';
