export { ArraySplit, splitTrainValid, BatchCycler } from './data.js';
export type { LossTermMode, LossTermOptions, LossTermHost, DivergenceInfo, EvalResult, TrainEpochOptions, EpochStats, RecalibrateOptions, ManagedGradientAccess } from './estim-base.js';
export { supportsLossTerms, isAborted, stepsPerEpoch, inputShapeOf, DIVERGED_CODE, DIVERGED_LOSS, isDivergedLoss, divergedError, isDivergedError, divergedTrial, failedTrial, isBetterTrial, evaluate, trainEpoch, recalibrateBatchNorm, measureMetrics, validateWithMetrics, scoreOf, formatMetrics, reportEpoch, reportCandidate, yieldToEventLoop, snapshotState, restoreState, applyCandidate, createGradientAccess } from './estim-base.js';
export { formatDuration, formatNum, groupDigits } from './format.js';
export { estimCheckpoints } from './checkpoints.js';
export type { SlotRecord } from './arch-record.js';
export { describeSlots, alphaProbs, recordSlots, recordAlpha } from './arch-record.js';
export { candidateContext, inProcessSession, openExecutor, evaluateJobs, JOB_FAILED_CODE } from './executors.js';
