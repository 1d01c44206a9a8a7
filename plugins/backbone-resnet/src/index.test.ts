// The conformance suite of @modnas/testkit: what every plugin must satisfy, and per kind what the
// component must do (a backbone's Slots filled and run forward and backward). Small stems keep it fast.
import { describeConformance } from '@modnas/testkit';
import plugin from './index.js';

const backbones = plugin.components.filter((c) => c.kind === 'backbone').map((c) => c.id);

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: Object.fromEntries(backbones.map((id) => [id, { chn: 4 }])),
  inputShapes: Object.fromEntries(backbones.map((id) => [id, [2, 8, 8, 3]])),
  // 32x4d / 32x8d fix the bottleneck widths (128 ... 2048) whatever chn: tens of seconds each here;
  // backbones.test.ts builds them, counts CIFAR-ResNeXt-50's parameters and runs it forward
  skipCreate: Object.fromEntries(backbones.filter((id) => id.includes('ResNeXt')).map((id) => [id, 'ResNeXt widths are fixed and large; see backbones.test.ts'])),
});
