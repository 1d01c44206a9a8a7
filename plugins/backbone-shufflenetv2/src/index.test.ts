// The conformance suite of @modnas/testkit: meta and package.json agree, defaults parse, each
// component builds in a fresh container and one step leaks no tensors.
import type { BuildContext, StateTransformer } from '@modnas/core';
import { getRegistry, tf } from '@modnas/core';
import indexOp from '@modnas/mixed-op-index';
import basic from '@modnas/primitive-basic';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import { beforeAll } from 'vitest';
import plugin from './index.js';
import { ShuffleNetV2 } from './model.js';

beforeAll(() => {
  for (const p of [basic, indexOp, plugin]) getRegistry().register(p);
});

const tiny = { cfgs: [[8, 1, 2, 1], [16, 2, 2, 1], [32, 1, 1, 1]] };
const runConstructor = async (t: unknown): Promise<void> => {
  const ctx: BuildContext = makeBuildContext();
  const net = await (t as StateTransformer).apply(new ShuffleNetV2({ cfgs: [[8, 1, 2, 1], [16, 2, 2, 1], [32, 1, 1, 1]], numClasses: 3 }), ctx);
  tf.dispose(tf.tidy(() => (net).call(tf.randomNormal([1, 8, 8, 3]))));
  net.dispose();
  ctx.space.dispose();
};

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { shufflenetv2: tiny, cifar_shufflenetv2: tiny, shufflenetv2_oneshot: tiny, cifar_shufflenetv2_oneshot: tiny },
  step: { ShuffleNetV2PredefinedConstructor: runConstructor, ShuffleNetV2SearchConstructor: runConstructor },
});
