// The conformance suite of @modnas/testkit: what every plugin must satisfy, and per kind what the
// component must do (an optimizer's state round-trips, a mixed op's α reaches its output, ...).
import { describeConformance } from '@modnas/testkit';
import plugin from './index.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
});
