import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { crossEntropySoftTargetLoss, marginRankingLoss, multiLabelMarginLoss, multiMarginLoss, nllLoss } from './class-index-losses.js';
import { multLogMetricsLoss, multMetricsLoss } from './metrics-loss.js';
import { mixUpLoss } from './mixup-loss.js';
import { bceLoss, bceWithLogitsLoss, gaussianNllLoss, hingeEmbeddingLoss, huberLoss, klDivLoss, l1Loss, mseLoss, multiLabelSoftMarginLoss, poissonNllLoss, smoothL1Loss, softMarginLoss } from './target-losses.js';
import { cosineEmbeddingLoss, tripletMarginLoss, tripletMarginWithDistanceLoss } from './triplet-losses.js';

export { TaskLoss } from './common.js';
export { crossEntropySoftTarget, crossEntropySoftTargetLoss, marginRankingLoss, multiLabelMarginLoss, multiMarginLoss, nllLoss, torchMarginRankingLoss, torchMultiMarginLoss, torchNllLoss } from './class-index-losses.js';
export { MultMetricsLoss, multLogMetricsLoss, multMetricsLoss } from './metrics-loss.js';
export { MixUpLoss, mixUpLoss, sampleBeta, sampleGamma } from './mixup-loss.js';
export type { MixCriterion, MixUpLossConfig } from './mixup-loss.js';
export {
  bceLoss,
  bceWithLogitsLoss,
  gaussianNllLoss,
  hingeEmbeddingLoss,
  huberLoss,
  klDivLoss,
  l1Loss,
  mseLoss,
  multiLabelSoftMarginLoss,
  poissonNllLoss,
  smoothL1Loss,
  softMarginLoss,
  torchBceLossOfSigmoid,
  torchBceWithLogitsLoss,
  torchGaussianNllLoss,
  torchHingeEmbeddingLoss,
  torchHuberLoss,
  torchKlDivLoss,
  torchL1Loss,
  torchMseLoss,
  torchMultiLabelSoftMarginLoss,
  torchPoissonNllLoss,
  torchSmoothL1Loss,
  torchSoftMarginLoss,
} from './target-losses.js';
export { batchPairs, batchTriplets, cosineDistance, cosineEmbeddingLoss, pairwiseDistance, torchCosineEmbeddingLoss, torchTripletMarginLoss, tripletMarginLoss, tripletMarginWithDistanceLoss } from './triplet-losses.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [
    nllLoss,
    multiMarginLoss,
    multiLabelMarginLoss,
    marginRankingLoss,
    crossEntropySoftTargetLoss,
    mseLoss,
    l1Loss,
    smoothL1Loss,
    huberLoss,
    poissonNllLoss,
    gaussianNllLoss,
    softMarginLoss,
    multiLabelSoftMarginLoss,
    hingeEmbeddingLoss,
    klDivLoss,
    bceWithLogitsLoss,
    bceLoss,
    tripletMarginLoss,
    tripletMarginWithDistanceLoss,
    cosineEmbeddingLoss,
    mixUpLoss,
    multMetricsLoss,
    multLogMetricsLoss,
  ],
});
