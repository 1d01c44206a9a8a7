import { definePlugin } from '@modnas/core';
import pkg from '../package.json' with { type: 'json' };
import { earlyStopping } from './early-stopping.js';
import { estimResultsExporter } from './estim-results-exporter.js';
import { optimumReporter, paretoReporter } from './optimum-reporter.js';
import { estimReporter, etaReporter, trainerReporter } from './reporters.js';
import { metricsStatsReporter, mixedOpStatsReporter } from './stats-reporters.js';

export { EarlyStopping, earlyStopping, earlyStoppingSchema } from './early-stopping.js';
export { EstimResultsExporter, estimResultsExporter, estimResultsExporterSchema } from './estim-results-exporter.js';
export { OptimumReporter, ParetoReporter, optimumReporter, optimumReporterSchema, paretoReporter, paretoReporterSchema } from './optimum-reporter.js';
export { ParetoSet } from './optimum.js';
export { ETAReporter, EstimReporter, TrainerReporter, estimReporter, etaReporter, trainerReporter } from './reporters.js';
export { MetricsStatsReporter, MixedOpStatsReporter, metricsStatsReporter, mixedOpStatsReporter } from './stats-reporters.js';

export default definePlugin({
  meta: { name: pkg.name, version: pkg.version },
  components: [etaReporter, estimReporter, trainerReporter, optimumReporter, paretoReporter, estimResultsExporter, earlyStopping, mixedOpStatsReporter, metricsStatsReporter],
});
