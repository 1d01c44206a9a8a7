// The conformance suite of @modnas/testkit; the estimator's predictor learns from two inline records
// over the check's space (a categorical "op" of 1 or 2).
import { describeConformance } from '@modnas/testkit';
import plugin from './index.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: {
    RegressionEstim: {
      epochs: 2,
      predictor: {
        records: [
          { arch: { op: 1 }, score: 0.2 },
          { arch: { op: 2 }, score: 0.8 },
        ],
        steps: 20,
      },
    },
  },
});
