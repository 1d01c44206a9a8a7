import type { Callback, EventBus, Logger } from '@modnas/core';
import { defineComponent, z } from '@modnas/core';
import { safeName, writeOutput } from './files.js';

export const estimResultsExporterSchema = z.strictObject({
  run_file_name: z.string().min(1).default('results').describe("The estimator's results at its end: outputs/<run_file_name>_<estim>.yaml (best arch, best score, candidates)"),
  best_file_name: z.string().min(1).default('best').describe('The best arch so far, written each time a candidate beats it: outputs/<best_file_name>_<estim>.yaml'),
  save_desc_best: z.boolean().default(true).describe('Write the best arch each time it changes'),
  save_chkpt_best: z.boolean().default(true).describe("The original's weight checkpoint of the best: accepted; the run's checkpoints are its own here (config checkpoint)"),
  chkpt_intv: z.number().int().min(0).default(0).describe("The original's checkpoint interval: accepted; see checkpoint.epochs"),
  desc_intv: z.number().int().min(0).default(0).describe("The original's arch-desc interval: accepted; every epoch's architecture is in the run's records"),
});

/** Writes an estimator's best arch as candidates beat it, and its results at its end (the original's EstimResultsExporter). */
export class EstimResultsExporter implements Callback {
  private best = -Infinity;
  private bestArch?: Record<string, unknown>;
  private count = 0;
  readonly files: string[] = [];

  constructor(readonly config: z.output<typeof estimResultsExporterSchema>) {}

  attach(events: EventBus, { logger, outputDir }: { logger: Logger; outputDir: string }): void {
    const c = this.config;
    events.on('estim:begin', () => {
      this.best = -Infinity;
      this.bestArch = undefined;
      this.count = 0;
    });
    events.on('candidate:end', ({ estim, arch, score }) => {
      this.count++;
      if (!(score > this.best)) return;
      this.best = score;
      this.bestArch = arch;
      if (c.save_desc_best) this.files.push(writeOutput(outputDir, `${safeName(c.best_file_name)}_${safeName(estim)}.yaml`, arch));
    });
    events.on(
      'estim:end',
      ({ estim }) => {
        const path = writeOutput(outputDir, `${safeName(c.run_file_name)}_${safeName(estim)}.yaml`, {
          estim,
          candidates: this.count,
          ...(this.bestArch ? { best_arch_desc: this.bestArch, best_score: this.best } : {}),
        });
        this.files.push(path);
        logger.info(`${estim}: results saved to ${path}`);
      },
      -1,
    );
  }
}

export const estimResultsExporter = defineComponent({
  kind: 'callback',
  id: 'EstimResultsExporter',
  description: "Writes an estimator's best arch each time a candidate beats it, and its results (best arch and score) at its end, under outputs/",
  schema: estimResultsExporterSchema,
  create(config) {
    return new EstimResultsExporter(config);
  },
});
