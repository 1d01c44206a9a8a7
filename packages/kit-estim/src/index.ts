/**
 * @modnas/kit-estim, what estimator and dataset plugins share: data splits and augmentation, the
 * train/eval loop, candidates evaluated through the executor service (and the default in-process
 * executor), checkpoints and records as an estimator sees them, formatting.
 */
export { ArraySplit, splitTrainValid, BatchCycler, fitsInMemory } from './data.js';
export type { AugmentConfig, ImageBatchOptions } from './augment.js';
export { NO_AUGMENT, augmentSchema, augments, describeAugment, imageBatch } from './augment.js';
export type { LossTermMode, LossTermOptions, LossTermHost, DivergenceInfo, EvalResult, TrainEpochOptions, EpochStats, RecalibrateOptions, ManagedGradientAccess } from './estim-base.js';
export { supportsLossTerms, isAborted, stepsPerEpoch, inputShapeOf, DIVERGED_CODE, DIVERGED_LOSS, isDivergedLoss, divergedError, isDivergedError, divergedTrial, failedTrial, isBetterTrial, evaluate, trainEpoch, recalibrateBatchNorm, measureMetrics, validateWithMetrics, scoreOf, formatMetrics, reportEpoch, reportCandidate, yieldToEventLoop, snapshotState, restoreState, applyCandidate, createGradientAccess } from './estim-base.js';
export { formatDuration, formatNum, groupDigits } from './format.js';
export { estimCheckpoints } from './checkpoints.js';
export { buildCriterion, criterionField, startLosses, trainingWith } from './losses.js';
export type { CriterionConfig } from './losses.js';
export type { SlotRecord } from '@modnas/services';
export { describeSlots, alphaProbs, recordSlots, recordAlpha } from './arch-record.js';
export { candidateContext, InProcessExecutor, openExecutor, evaluateJobs, JOB_FAILED_CODE } from './executors.js';
