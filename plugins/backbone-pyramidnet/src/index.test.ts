// The conformance suite of @modnas/testkit: meta and package.json agree, defaults parse, each
// component builds in a fresh container and one step leaks no tensors.
import type { StateTransformer } from '@modnas/core';
import { tf } from '@modnas/core';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import plugin from './index.js';
import { PyramidNet } from './model.js';

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { PyramidNet: { chn: 4, blocks: 1, alpha: 6, bottleneck_ratio: 2 } },
  step: {
    PyramidNetPredefinedConstructor: async (t) => {
      const ctx = makeBuildContext();
      const net = new PyramidNet({ chnIn: 3, chn: 4, numClasses: 3, groups: 2, blocks: 1, convGroups: 1, bottleneckRatio: 2, alpha: 4 });
      await (t as StateTransformer).apply(net, ctx);
      tf.dispose(tf.tidy(() => net.call(tf.randomNormal([1, 8, 8, 3]))));
      net.dispose();
    },
  },
});
