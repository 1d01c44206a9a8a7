import type { Callback, EventBus, Logger } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';

export const earlyStoppingSchema = z.strictObject({
  threshold: z.number().int().positive().default(10).describe('Stop an estimator after this many epochs without a better result'),
  metric: z
    .string()
    .nullable()
    .default(null)
    .describe("What must improve: null = the best candidate score (the original's); or an epoch metric such as 'acc' or '-loss' (a leading '-' means lower is better), for estimators that train without candidates"),
});

/**
 * Stops an estimator after `threshold` epochs without a better result: a candidate that beats the
 * best score so far (the original's EarlyStopping), or a better value of an epoch metric. The
 * estimator ends as after its last epoch (its results are exported), and the run goes on with the
 * next estimator.
 */
export class EarlyStopping implements Callback {
  /** Epochs since the last improvement, and the best so far, of the estimator running now. */
  since = 0;
  best = -Infinity;
  private stop?: (reason: string) => void;

  constructor(readonly config: z.output<typeof earlyStoppingSchema>) {}

  attach(events: EventBus, { logger }: { logger: Logger; outputDir: string }): void {
    const c = this.config;
    const neg = c.metric?.startsWith('-') ?? false;
    const key = c.metric ? c.metric.replace(/^-/, '') : null;
    const improve = (v: number): void => {
      if (Number.isFinite(v) && v > this.best) {
        this.best = v;
        this.since = -1; // the epoch that brought it counts as none without
      }
    };
    events.on('estim:begin', ({ stop }) => {
      this.since = 0;
      this.best = -Infinity;
      this.stop = stop;
    });
    events.on('candidate:end', ({ score }) => {
      if (key === null) improve(score);
    });
    events.on(
      'epoch:end',
      ({ estim, epoch, epochs, metrics }) => {
        if (key !== null && typeof metrics[key] === 'number') improve(neg ? -metrics[key] : metrics[key]);
        this.since++;
        if (this.since >= c.threshold && epoch + 1 < epochs && this.stop) {
          const why = `no better ${key ?? 'candidate score'} in ${this.since} epochs (threshold ${c.threshold})`;
          logger.info(`${estim}: early stopped at epoch ${epoch + 1}/${epochs}: ${why}`);
          this.stop(`EarlyStopping: ${why}`);
          this.stop = undefined;
        }
      },
      -10,
    );
  }
}

export const earlyStopping = defineComponent({
  kind: 'callback',
  id: 'EarlyStopping',
  description: 'Stops an estimator after `threshold` epochs without a better candidate score (or a better epoch metric); the run goes on with the next estimator',
  schema: earlyStoppingSchema,
  create(config) {
    return new EarlyStopping(config);
  },
});
