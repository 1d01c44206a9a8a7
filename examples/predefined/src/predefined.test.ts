import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readYamlValue } from '@modnas/config';
import { exportExperiment } from '@modnas/model-export';
import { prepareExperiment, runExperiment, runSeedPipeline } from '@modnas/runtime';
import { describe, expect, it } from 'vitest';
import { expectPredictionsMatch, mnistTestPngs } from '../../../test/export-fixtures.js';
import { REDUCED, tiny, tinyImages } from './tiny.js';

const here = (f: string) => fileURLToPath(new URL(`../${f}`, import.meta.url));
const readLogs = (dir: string): string => readFileSync(join(dir, 'logs', 'run.log'), 'utf8');
const ids = (plan: Awaited<ReturnType<typeof prepareExperiment>>['plan']) => Object.fromEntries([...plan.components].map(([k, v]) => [k, v.def.id]));

const EXAMPLES = ['mbv2', 'ps', 'darts', 'pxl'] as const;

/** The arch-desc constructor that `modnas train` picks for each searched config. */
const DESC_CONSTRUCTOR: Record<string, string | undefined> = {
  mbv2: 'DefaultSlotArchDescConstructor', // from its exporter: the plain network has no search constructor
  ps: 'MobileNetV2ArchDescConstructor', // from the elastic constructor
  darts: 'DefaultSlotArchDescConstructor', // from DefaultMixedOpConstructor
  pxl: 'DefaultSlotArchDescConstructor',
};

describe('the predefined experiments: native and seed format agree', () => {
  for (const name of EXAMPLES) {
    it(`${name}: both formats validate to the same components`, async () => {
      const native = await prepareExperiment([here(`native/${name}.yaml`)]);
      // a VEGA pipeline file prepares as its first step (nas; mbv2's only step, fully_train)
      const seed = await prepareExperiment([here(`seed/${name}.yml`)]);
      const n = ids(native.plan);
      const s = ids(seed.plan);
      for (const key of ['model', 'optim', 'trainer']) expect(s[key], key).toBe(n[key]);
      expect(Object.values(s).filter((id) => /Estimator$/.test(id))).toEqual(Object.values(n).filter((id) => /Estimator$/.test(id)));
      const mixed = (m: Record<string, string>) => Object.entries(m).filter(([k]) => k.endsWith('.mixed_op')).map(([, v]) => v);
      expect(mixed(s)).toEqual(mixed(n));
      expect(seed.plan.components.get('trainer')?.config).toMatchObject({ optimizer: 'sgd', lr: 0.025, momentum: 0.9, weight_decay: 3e-4, lr_scheduler: 'cosine' });
      expect(seed.plan.config.data_provider.train_portion).toBe(native.plan.config.data_provider.train_portion);
      // ps: the progressive-shrinking students learn from the teacher in both (VEGA's criterion, as written)
      if (name === 'ps') {
        for (const p of [seed.plan, native.plan]) {
          const [kd] = (p.components.get('estim.ps')?.config as { criterion: unknown }).criterion as Array<{ type: string; crit_conf?: string; args?: { crit_conf?: string } }>;
          expect([kd.type, kd.crit_conf ?? kd.args?.crit_conf]).toEqual(['KnowledgeDistillLoss', 'CrossEntropySoftTargetLoss']);
        }
      }
    });
  }
});

describe('the predefined experiments run end to end (tiny sizes): search, then train the found network', () => {
  for (const name of EXAMPLES) {
    it(`${name} (native): modnas run, then modnas train on the searched config with --arch, then export both and predict`, async () => {
      const out = mkdtempSync(join(tmpdir(), `modnas-${name}-`));
      const reduced = REDUCED[name]?.native ?? [];
      const { plan } = await prepareExperiment([here(`native/${name}.yaml`)], [...tiny(out), ...reduced]);
      const s = await runExperiment(plan);
      const estim = Object.keys(s.estims).pop() as string;
      const archFile = join(out, name, 'outputs', `arch_${estim}_best.yaml`);
      expect(existsSync(archFile)).toBe(true);
      const desc = readYamlValue(archFile) as unknown[];
      expect(Array.isArray(desc)).toBe(true);

      // `modnas train <the search config> --arch <file>`: the matching desc constructor, a plain estimator
      const train = await prepareExperiment([here(`native/${name}.yaml`)], [...tinyImages(out), ...reduced], { train: { archDesc: archFile } });
      expect(ids(train.plan)['desc_construct.arch_desc']).toBe(DESC_CONSTRUCTOR[name]);
      expect(Object.values(ids(train.plan)).filter((id) => /Estimator$/.test(id))).toEqual(['DefaultEstimator']);
      expect(train.plan.config.optim).toBeUndefined();
      if (name !== 'mbv2') expect(train.notes.join('\n')).toMatch(/DefaultEstimator "train" .* in place of the search's estimators/);
      const t = await runExperiment(train.plan, { notes: train.notes });
      expect(Object.keys(t.estims)).toEqual(['train']);
      expect(t.numParams).toBeGreaterThan(0);
      // the fixed network is a single path of the supernet (mbv2 is the same network again)
      if (name === 'mbv2') expect(t.numParams).toBe(s.numParams);
      else expect(t.numParams).toBeLessThan(s.numParams);
      expect(t.outputDir).toBe(join(out, name === 'mbv2' ? 'mbv2' : `${name}-train`));
      expect(existsSync(join(t.outputDir, 'outputs', 'arch_train_best.yaml'))).toBe(true);

      // the trained network and (a search) the chosen subnetwork, as tfjs and ONNX, each checked against @modnas at export
      const exported = await exportExperiment(t.outputDir, { evalImages: 256 });
      expect(exported.outputs.map((o) => [o.format, o.meta.experiment.kind, o.meta.verified!.max_abs_logit_diff < 1e-4])).toEqual([['tfjs', 'train', true], ['onnx', 'train', true]]);
      await expectPredictionsMatch(t.outputDir, exported.outputs.map((o) => o.dir), await mnistTestPngs(join(out, 'pngs'), 4));
      if (name !== 'mbv2') {
        const fromSearch = await exportExperiment(s.outputDir, { evalImages: 256, formats: ['onnx'] });
        expect(fromSearch.outputs[0].meta).toMatchObject({ experiment: { kind: 'search' }, verified: { same_argmax: true } });
        expect(fromSearch.outputs[0].meta.verified!.max_abs_logit_diff).toBeLessThan(1e-4);
      }
    });

    it(`${name} (seed, a VEGA pipeline): modnas run runs every step, fully_train trains what nas found`, async () => {
      const out = mkdtempSync(join(tmpdir(), `modnas-seed-${name}-`));
      const steps = await runSeedPipeline(here(`seed/${name}.yml`), [...tiny(out), ...(REDUCED[name]?.seed ?? [])]);
      const train = steps[steps.length - 1];
      expect(train.step).toBe('fully_train');
      expect(Object.keys(train.summary.estims)).toEqual(['train']);
      expect(train.summary.estims.train.type).toBe('DefaultEstimator');
      expect(train.summary.numParams).toBeGreaterThan(0);
      expect(existsSync(join(out, `${name}.fully_train`, 'outputs', 'arch_train_best.yaml'))).toBe(true);
      if (name === 'mbv2') {
        expect(steps.map((st) => st.step)).toEqual(['fully_train']);
        expect(train.arch).toBeUndefined();
        return;
      }
      expect(steps.map((st) => [st.step, st.kind])).toEqual([['nas', 'search'], ['fully_train', 'train']]);
      const nas = steps[0];
      expect(train.from).toBe('nas');
      expect(train.arch).toBe(join(out, `${name}.nas`, 'outputs', 'arch_search_best.yaml'));
      expect(existsSync(train.arch as string)).toBe(true);
      expect(train.summary.numParams).toBeLessThan(nas.summary.numParams);
      if (name === 'ps') expect(readLogs(join(out, `${name}.nas`))).toMatch(/ps: KnowledgeDistillLoss: the teacher is this network/);
    });
  }
});
