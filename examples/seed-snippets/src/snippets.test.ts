import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import { describe, expect, it } from 'vitest';

const here = (f: string) => fileURLToPath(new URL(`../${f}`, import.meta.url));
const ids = (plan: Awaited<ReturnType<typeof prepareExperiment>>['plan']) => Object.fromEntries([...plan.components].map(([k, v]) => [k, v.def.id]));

describe('the seed README snippets, as written', () => {
  it('1: the MobileNetV2 search space with BinGate', async () => {
    const { plan, defaulted } = await prepareExperiment([here('1-search-space.yml')]);
    expect(ids(plan)).toMatchObject({
      model: 'CIFAR_MobileNetV2_GPU',
      'construct.mixed_op': 'DefaultMixedOpConstructor',
      'construct.mixed_op.mixed_op': 'BinGate',
      'construct.mixed_op.primitives.5': 'MB7E6',
      optim: 'BinaryGateOptim',
      'estim.search': 'SuperNetEstimator',
      data: 'MNIST',
    });
    expect(defaulted.some((d) => d.includes('trainer.modnas.estim'))).toBe(true);
  });

  it('2: the ProxylessNAS-G optimizer', async () => {
    const { plan } = await prepareExperiment([here('2-search-algorithm.yml')]);
    expect(ids(plan)).toMatchObject({ optim: 'BinaryGateOptim', model: 'CIFAR_MobileNetV2', 'construct.mixed_op.mixed_op': 'BinGate' });
  });

  it('3 and 4: one estimator, and a chain run in order (warmup, then search)', async () => {
    const { plan } = await prepareExperiment([here('3-estim-supernet.yml')]);
    expect(plan.config.estim).toEqual({ search: { type: 'SuperNetEstimator', epochs: 1 } });
    const { plan: chain } = await prepareExperiment([here('4-estim-chain.yml')]);
    expect(Object.keys(chain.config.estim)).toEqual(['warmup', 'search']);
    expect(chain.components.get('estim.warmup')?.def.id).toBe('DefaultEstimator');
    expect(chain.components.get('estim.search')?.config).toMatchObject({ epochs: 100 });
  });

  it('5: VEGA trainer keys are accepted (and ignored, with a note)', async () => {
    const { ignored } = await prepareExperiment([here('4-estim-chain.yml'), here('5-trainer-compat.yml')]);
    expect(ignored.join('\n')).toMatch(/trainer.valid_interval[\s\S]*trainer.lazy_built[\s\S]*trainer.epochs/);
  });

  it('6: DefaultMixedOpConstructor with empty args uses its defaults', async () => {
    const { plan } = await prepareExperiment([here('6-custom-model.yml')]);
    expect(plan.components.get('construct.mixed_op')?.def.id).toBe('DefaultMixedOpConstructor');
  });

  it('merged snippets run end to end on small data and write the best architecture', async () => {
    const out = mkdtempSync(join(tmpdir(), 'modnas-snippets-'));
    const { plan } = await prepareExperiment(
      [here('1-search-space.yml'), here('2-search-algorithm.yml'), here('4-estim-chain.yml')],
      [
        'quick=true',
        `output_dir=${out}`,
        'model.type=CIFAR_MobileNetV2',
        'model.args={width_coeff: 0.25, depth_coeff: 0.3}',
        'data={type: Synthetic, size: 48, test_size: 8, image_size: 16, num_classes: 10}',
        'data_provider={train_portion: 0.5}',
        'trainer={type: DefaultTrainer, batch_size: 8}',
      ],
    );
    const s = await runExperiment(plan);
    expect(Object.keys(s.estims)).toEqual(['warmup', 'search']);
    expect(s.estims.search.outputs[0]).toMatch(/arch_search_best\.yaml$/);
    expect(s.estims.search.best).toBeDefined();
  });
});
