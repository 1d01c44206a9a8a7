import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareExperiment, readYamlValue, runExperiment } from '@modnas/core';
import { describe, expect, it } from 'vitest';

const here = (f: string) => fileURLToPath(new URL(`../${f}`, import.meta.url));
const ids = (plan: Awaited<ReturnType<typeof prepareExperiment>>['plan']) => Object.fromEntries([...plan.components].map(([k, v]) => [k, v.def.id]));

/** Shrinks an example to seconds on the cpu backend: a thin, shallow net on 16x16 synthetic images. */
const tiny = (out: string) => [
  `output_dir=${out}`,
  'quick=true',
  'model.args={width_coeff: 0.25, depth_coeff: 0.25}',
  'data={type: Synthetic, size: 24, test_size: 8, image_size: 16, num_classes: 10}',
  'data_provider.train_size=8',
  'data_provider.valid_size=8',
  'trainer.batch_size=8',
];

const EXAMPLES = ['mbv2', 'ps', 'darts', 'pxl'] as const;

describe('the predefined experiments: native and seed format agree', () => {
  for (const name of EXAMPLES) {
    it(`${name}: both formats validate to the same components`, async () => {
      const native = await prepareExperiment([here(`native/${name}.yaml`)]);
      const seed = await prepareExperiment([here(`seed/${name}.yml`)]);
      const n = ids(native.plan);
      const s = ids(seed.plan);
      for (const key of ['model', 'optim', 'trainer']) expect(s[key], key).toBe(n[key]);
      expect(Object.values(s).filter((id) => /Estimator$/.test(id))).toEqual(Object.values(n).filter((id) => /Estimator$/.test(id)));
      const mixed = (m: Record<string, string>) => Object.entries(m).filter(([k]) => k.endsWith('.mixed_op')).map(([, v]) => v);
      expect(mixed(s)).toEqual(mixed(n));
      expect(seed.plan.components.get('trainer')?.config).toMatchObject({ optimizer: 'sgd', lr: 0.025, momentum: 0.9, weight_decay: 3e-4, lr_scheduler: 'cosine' });
    });
  }
});

// darts is left out of the end-to-end runs: its second-order step on the 22-block supernet blocked a
// test worker for about a minute, past vitest's worker-message timeout. Its optimizer is tested with
// finite differences in plugins/optim-darts, and its config validates above.
const RUN_END_TO_END = EXAMPLES.filter((e) => e !== 'darts');

describe('the predefined experiments run end to end (tiny sizes)', () => {
  for (const name of RUN_END_TO_END) {
    it(`${name}: search or training writes its best architecture, and the final training builds it`, async () => {
      const out = mkdtempSync(join(tmpdir(), `modnas-${name}-`));
      const { plan } = await prepareExperiment([here(`native/${name}.yaml`)], tiny(out));
      const s = await runExperiment(plan);
      const [estim] = Object.keys(s.estims);
      const archFile = join(out, name, 'outputs', `arch_${estim}_best.yaml`);
      expect(existsSync(archFile)).toBe(true);
      const desc = readYamlValue(archFile) as unknown[];
      expect(Array.isArray(desc)).toBe(true);
      // the final-training routine builds and trains the exported architecture
      const { plan: train } = await prepareExperiment([here('native/train.yaml')], [...tiny(out), `arch_desc=${JSON.stringify(archFile)}`, `name=${name}-train`]);
      const t = await runExperiment(train);
      expect(t.numParams).toBeGreaterThan(0);
      expect(Object.keys(t.estims)).toEqual(['train']);
    });
  }
});
