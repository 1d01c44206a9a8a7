import type { Json, JsonObject } from '@modnas/config';
import { isObject } from '@modnas/config';
import { looseName } from '@modnas/core';

/**
 * The original's criteria that are `loss` components here (@modnas/loss-default): the torch.nn losses
 * its registry wrapped, on the logits and the labels, and its own. Each replaces the task loss, as
 * the original's trainer criterion does.
 */
export const LOSS_CRITERIA = [
  'NLLLoss',
  'NLLLoss2d',
  'MultiMarginLoss',
  'MultiLabelMarginLoss',
  'MarginRankingLoss',
  'CrossEntropySoftTargetLoss',
  'MSELoss',
  'L1Loss',
  'SmoothL1Loss',
  'HuberLoss',
  'PoissonNLLLoss',
  'GaussianNLLLoss',
  'SoftMarginLoss',
  'MultiLabelSoftMarginLoss',
  'HingeEmbeddingLoss',
  'KLDivLoss',
  'BCEWithLogitsLoss',
  'BCELoss',
  'TripletMarginLoss',
  'TripletMarginWithDistanceLoss',
  'CosineEmbeddingLoss',
  'MixUpLoss',
  'MultMetricsLoss',
  'MultLogMetricsLoss',
] as const;

/** What the trainer's `criterion` becomes: DefaultTrainer's label smoothing, or loss components for the estimators. */
export interface CriterionMapping {
  /** CrossEntropyLabelSmoothingLoss: the trainer's label_smoothing. */
  labelSmoothing?: number;
  /** Loss component specs ({ type, ...options }), in the original's order. */
  losses: JsonObject[];
  errors: string[];
}

/**
 * The original trainer's `criterion` (a name, `{ type, args, mode }`, or a list of them) in the
 * native terms: CrossEntropyLoss is the trainer's task loss (nothing to add), CrossEntropyLabelSmoothingLoss
 * its label smoothing (eta, default 0.1), any other criterion a loss component of the same name.
 */
export function mapCriterion(value: Json, at: string): CriterionMapping {
  const out: CriterionMapping = { losses: [], errors: [] };
  const specs = Array.isArray(value) ? value : [value];
  specs.forEach((spec, i) => {
    const where = Array.isArray(value) ? `${at}.${i}` : at;
    const type = typeof spec === 'string' ? spec : isObject(spec) && typeof spec.type === 'string' ? spec.type : undefined;
    if (type === undefined) {
      out.errors.push(`${where}: expected a criterion name or { type: <criterion>, args: {...} }`);
      return;
    }
    const { type: _t, args, ...rest } = isObject(spec) ? spec : { type };
    const options: JsonObject = { ...rest, ...(isObject(args) ? args : {}) };
    const loose = looseName(type);
    if (loose === looseName('CrossEntropyLoss') || type === 'CE') return;
    if (loose === looseName('CrossEntropyLabelSmoothingLoss') || type === 'LS') {
      const eta = options.eta ?? options.label_smoothing ?? 0.1;
      if (typeof eta !== 'number') out.errors.push(`${where}: eta ${JSON.stringify(eta)} is not a number`);
      else out.labelSmoothing = eta;
      return;
    }
    const id = LOSS_CRITERIA.find((n) => looseName(n) === loose);
    if (!id) {
      out.errors.push(`${where}: ${JSON.stringify(type)} is not available (CrossEntropyLoss, CrossEntropyLabelSmoothingLoss, ${LOSS_CRITERIA.join(', ')})`);
      return;
    }
    out.losses.push({ type: id, ...options });
  });
  return out;
}

/**
 * Gives each estimator of the native config the trainer's losses, first in its `criterion` list
 * (the original's trainer loss comes before the estimator's criteria). The estimators may be mapped
 * after the trainer (the document's key order): then they get the losses when they are set.
 */
export function addCriteriaToEstimators(out: JsonObject, losses: JsonObject[]): void {
  if (losses.length === 0) return;
  const add = (estim: Json | undefined): void => {
    if (!isObject(estim)) return;
    for (const e of Object.values(estim)) {
      if (!isObject(e)) continue;
      const own = e.criterion === undefined || e.criterion === null ? [] : Array.isArray(e.criterion) ? e.criterion : [e.criterion];
      e.criterion = [...losses.map((l) => ({ ...l })), ...own];
    }
  };
  if (out.estim !== undefined) {
    add(out.estim);
    return;
  }
  Object.defineProperty(out, 'estim', {
    configurable: true,
    enumerable: false,
    get: () => undefined,
    set(v: Json) {
      add(v);
      Object.defineProperty(out, 'estim', { value: v, writable: true, enumerable: true, configurable: true });
    },
  });
}
