import type { Callback, EventBus, Logger } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { formatDuration, formatMetrics } from '@modnas/kit-estim';

/** Every how many of `total` a report is due: null = each, a fraction of the total, or a count (0 = only the last). */
export function dueEvery(interval: number | null, total: number): number {
  if (interval === null) return 1;
  if (interval > 0 && interval < 1) return Math.max(1, Math.floor(interval * total));
  return Math.floor(interval);
}

export const isDue = (interval: number | null, done: number, total: number): boolean => {
  const every = dueEvery(interval, total);
  return done === total || (every > 0 && done % every === 0);
};

const intervalSchema = (what: string, dflt: number | null) =>
  z.number().min(0).nullable().default(dflt).describe(`Report every this many ${what} (a fraction below 1: of the total; 0: only the last; null: every one)`);

// ---------------------------------------------------------------- ETAReporter

/** Logs the estimated time left of each estimator after every epoch. */
export class ETAReporter implements Callback {
  attach(events: EventBus, { logger }: { logger: Logger; outputDir: string }): void {
    const start = new Map<string, { t: number; epoch: number }>();
    events.on('epoch:begin', ({ estim, epoch }) => {
      if (!start.has(estim)) start.set(estim, { t: Date.now(), epoch });
    });
    events.on('estim:end', ({ estim }) => void start.delete(estim));
    events.on(
      'epoch:end',
      ({ estim, epoch, epochs }) => {
        const s = start.get(estim);
        if (!s || epochs < 1) return;
        const done = epoch + 1 - s.epoch;
        const left = epochs - epoch - 1;
        const eta = ((Date.now() - s.t) / 1000 / Math.max(done, 1)) * left;
        logger.info(`${estim} epoch ${epoch + 1}/${epochs}: ETA ${formatDuration(eta)}`);
      },
      -1,
    );
  }
}

export const etaReporter = defineComponent({
  kind: 'callback',
  id: 'ETAReporter',
  description: 'Logs the estimated time left of each estimator after every epoch',
  schema: z.strictObject({}),
  create() {
    return new ETAReporter();
  },
});

// ---------------------------------------------------------------- EstimReporter

export const estimReporterSchema = z.strictObject({
  interval: intervalSchema('epochs', null),
});

/** Logs each estimator's epoch metrics, every `interval` epochs and at the last. */
export class EstimReporter implements Callback {
  constructor(readonly config: z.output<typeof estimReporterSchema>) {}

  attach(events: EventBus, { logger }: { logger: Logger; outputDir: string }): void {
    events.on(
      'epoch:end',
      ({ estim, epoch, epochs, metrics }) => {
        if (isDue(this.config.interval, epoch + 1, epochs)) logger.info(`${estim} [${String(epoch + 1).padStart(3)}/${epochs}] ${formatMetrics(metrics)}`);
      },
      -10,
    );
  }
}

export const estimReporter = defineComponent({
  kind: 'callback',
  id: 'EstimReporter',
  description: "Logs each estimator's epoch metrics every `interval` epochs and at the last",
  schema: estimReporterSchema,
  create(config) {
    return new EstimReporter(config);
  },
});

// ---------------------------------------------------------------- TrainerReporter

export const trainerReporterSchema = z.strictObject({
  interval: intervalSchema('steps', 0.2),
});

/** Logs the running means of the training steps' metrics in each epoch, every `interval` steps and at the last. */
export class TrainerReporter implements Callback {
  constructor(readonly config: z.output<typeof trainerReporterSchema>) {}

  attach(events: EventBus, { logger }: { logger: Logger; outputDir: string }): void {
    let sums: Record<string, number> = {};
    let n = 0;
    events.on(
      'step:end',
      ({ estim, epoch, step, steps, metrics }) => {
        if (step <= 1) {
          sums = {};
          n = 0;
        }
        n++;
        for (const [k, v] of Object.entries(metrics)) sums[k] = (sums[k] ?? 0) + v;
        if (!isDue(this.config.interval, step, steps)) return;
        const means = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, k === 'lr' ? metrics.lr : v / n]));
        logger.info(`${estim} epoch ${epoch + 1} train: [${String(step).padStart(3)}/${steps}] ${formatMetrics(means)}`);
      },
      -1,
    );
  }
}

export const trainerReporter = defineComponent({
  kind: 'callback',
  id: 'TrainerReporter',
  description: "Logs the running means of the training steps' loss and accuracy every `interval` steps of an epoch",
  schema: trainerReporterSchema,
  create(config) {
    return new TrainerReporter(config);
  },
});
