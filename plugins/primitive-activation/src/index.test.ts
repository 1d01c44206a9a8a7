// The conformance suite of @modnas/testkit: what every plugin must satisfy, and per kind what the
// component must do. Activations keep the shape, so each is built for a Slot of 4 -> 4 channels.
import { describeConformance } from '@modnas/testkit';
import plugin from './index.js';

const keep = { chnIn: 4, chnOut: 4, stride: 1 };

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  inputs: Object.fromEntries(plugin.components.map((c) => [c.id, keep])),
  configs: { Threshold: { threshold: 0.1, value: 20 } },
});
