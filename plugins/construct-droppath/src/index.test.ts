// The conformance suite of @modnas/testkit: what every plugin must satisfy, and per kind what the
// component must do.
import type { Module } from '@modnas/core';
import { describeConformance, makeBuildContext } from '@modnas/testkit';
import plugin from './index.js';
import { darts } from '../test/darts-net.js';

const step = async (t: unknown): Promise<void> => {
  const net = darts();
  await (t as { apply(m: Module, c: ReturnType<typeof makeBuildContext>): Module | Promise<Module> }).apply(net, makeBuildContext());
  net.dispose();
};
describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  step: { DropPathConstructor: step, DropPathConverter: step, DropPathTransformer: step },
});

