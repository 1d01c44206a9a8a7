// The DARTS cell search space end to end (tiny sizes): a second-order DARTS search, its genotype
// exported, then `modnas train <search config> --arch <genotype>` trains the found cells.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readYamlValue } from '@modnas/config';
import { exportExperiment } from '@modnas/model-export';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import { afterAll, describe, expect, it } from 'vitest';

const config = fileURLToPath(new URL('../native/darts-cells.yaml', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'modnas-darts-cells-'));
afterAll(() => { if (!process.env.KEEP) rmSync(out, { recursive: true, force: true }); });

/** C=4, 3 cells (normal, reduce, reduce), 2 nodes per cell (5 edges) of the 8 DARTS ops, a few MNIST digits at 16x16. */
const tiny = [
  `output_dir=${out}`,
  'quick=true',
  'model={type: DARTS, chn: 4, layers: 3, n_nodes: 2}',
  'data={type: MNIST, image_size: 16, resize: bilinear}',
  'data_provider.train_size=16',
  'data_provider.valid_size=16',
  'trainer.batch_size=8',
];

type Genotype = Array<Array<[string[], number[], number]>>;

const OPS = ['MAX', 'AVG', 'IDT', 'SC3', 'SC5', 'DC3', 'DC5', 'NIL'];
/** Index of the edge from state j into node i (edges counted node by node): the <type>_<e> arch param. */
const edgeIndex = (i: number, j: number): number => Array.from({ length: i }, (_, t) => 2 + t).reduce((a, b) => a + b, 0) + j;

describe('darts-cells: DARTS (second order) on the DARTS cell space', () => {
  it('validates as written: the DARTS network, its search constructor, second-order DARTSOptim, the recursive exporter', async () => {
    const { plan } = await prepareExperiment([config]);
    const ids = Object.fromEntries([...plan.components].map(([k, v]) => [k, v.def.id]));
    expect(ids).toMatchObject({ model: 'DARTS', 'construct.search': 'DARTSSearchConstructor', 'construct.search.mixed_op': 'WeightedSum', optim: 'DARTSOptim', 'export.default': 'DefaultRecursiveExporter' });
    expect(plan.components.get('model')?.config).toMatchObject({ chn: 16, layers: 8, n_nodes: 4, channel_multiplier: 3 });
  });

  it('searches, exports the genotype (2 strongest edges per node, never NIL), then trains the found cells', async () => {
    const { plan } = await prepareExperiment([config], tiny);
    expect(plan.components.get('optim')?.config).toMatchObject({ unrolled: true });
    const s = await runExperiment(plan);
    // one α per edge position and cell type, shared by the cells of that type; α was stepped
    const search = s.estims.search;
    expect(Object.keys(search.best?.arch ?? {}).sort()).toEqual([0, 1, 2, 3, 4].flatMap((e) => [`normal_${e}`]).concat([0, 1, 2, 3, 4].map((e) => `reduce_${e}`)));
    expect(search.metrics.arch_updates).toBeGreaterThan(0);
    const archFile = join(out, 'darts-cells', 'outputs', 'arch_search_best.yaml');
    expect(existsSync(archFile)).toBe(true);
    const [normal, reduce] = readYamlValue(archFile) as [Genotype, Genotype];
    for (const [type, cell] of [['normal', normal], ['reduce', reduce]] as const) {
      expect(cell).toHaveLength(2);
      cell.forEach((node, i) => {
        expect(node).toHaveLength(2);
        for (const [ops, [src], nStates] of node) {
          // a kept edge keeps the op α ranks first, unless that is NIL
          const best = (search.best?.arch as Record<string, number>)[`${type}_${edgeIndex(i, src)}`];
          if (OPS[best] !== 'NIL') expect(ops[0]).toBe(OPS[best]);
          expect(OPS.slice(0, -1)).toContain(ops[0]);
          expect(src).toBeLessThan(2 + i);
          expect(nStates).toBe(2 + i);
        }
      });
    }

    const train = await prepareExperiment([config], tiny, { train: { archDesc: archFile } });
    const ids = Object.fromEntries([...train.plan.components].map(([k, v]) => [k, v.def.id]));
    expect(ids['desc_construct.arch_desc']).toBe('DefaultRecursiveArchDescConstructor');
    expect(train.plan.config.optim).toBeUndefined();
    const t = await runExperiment(train.plan, { notes: train.notes });
    expect(Object.keys(t.estims)).toEqual(['train']);
    // 4 of the 5 edges per cell kept, each one op of three
    expect(t.numParams).toBeGreaterThan(0);
    expect(t.numParams).toBeLessThan(s.numParams);
    const trained = readYamlValue(join(t.outputDir, 'outputs', 'arch_train_best.yaml'));
    expect(trained).toEqual([normal, reduce]);

    // the trained cells as ONNX, checked against @modnas at export (the tfjs graph format has no
    // explicitly padded pooling, which MAX and AVG are: export says so and that format is left out)
    const exported = await exportExperiment(t.outputDir, { evalImages: 64, formats: ['onnx'] });
    expect(exported.outputs.map((o) => [o.format, o.meta.verified!.max_abs_logit_diff < 1e-4])).toEqual([['onnx', true]]);
  }, 120_000);
});
