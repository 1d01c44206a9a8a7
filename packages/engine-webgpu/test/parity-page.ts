/**
 * The parity test's page: trainer-default's PyTorch parity harness (60 SGD steps of a small
 * MobileNetV2-like network) on the `webgpu` backend with this package's kernels, @modnas/core,
 * @modnas/nn and DefaultTrainer bundled for the browser as they are.
 */
import '@tensorflow/tfjs-backend-webgpu';
import { tf } from '@modnas/core';
import { registerWebGpuKernels } from '../src/kernels.js';
import type { ParityManifest, ParityRun } from '../../../plugins/trainer-default/test/parity.js';
import { parityFailures, runParity } from '../../../plugins/trainer-default/test/parity.js';

registerWebGpuKernels(tf);

declare const window: object;

async function parity(): Promise<{ backend: string; run: ParityRun; failures: string[]; summary: string }> {
  await tf.setBackend('webgpu');
  await tf.ready();
  const manifest = (await (await fetch('/parity.json')).json()) as ParityManifest;
  const floats = new Float32Array(await (await fetch('/parity.bin')).arrayBuffer());
  const run = await runParity({ manifest, floats });
  return { backend: tf.getBackend(), run, ...parityFailures(run, manifest) };
}

Object.assign(window, { modnasParity: { parity } });
