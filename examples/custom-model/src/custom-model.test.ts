import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildContext, ComponentKind, ComponentSpec, KindInput, KindOutput, Module } from '@modnas/core';
import { specConfig } from '@modnas/config';
import { ArchSpace, Registry, Rng, Slot, silentLogger, tf } from '@modnas/core';
import { MixedOp, archDescOf } from '@modnas/kit-mixed-op';
import { exportExperiment } from '@modnas/model-export';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import { describeConformance } from '@modnas/testkit';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { expectPredictionsMatch, mnistTestPngs } from '../../../test/export-fixtures.js';
import plugin from './index.js';

describeConformance(plugin, { packageJson: new URL('../package.json', import.meta.url) });

const dir = fileURLToPath(new URL('..', import.meta.url));
const here = (f: string): string => join(dir, f);

/** A BuildContext over the given registry (as the runner makes one). */
function buildContext(registry: Registry, space = new ArchSpace()): BuildContext {
  const ctx: BuildContext = {
    container: rootContainer.createChildContainer(),
    space,
    rng: new Rng(0),
    logger: silentLogger,
    where: 'test',
    build: async <K extends ComponentKind>(kind: K, spec: ComponentSpec | string, input?: KindInput[K]): Promise<KindOutput[K]> => {
      const { type, config } = specConfig(spec);
      const def = await registry.resolve(kind, type);
      return (await def.create(def.schema.parse(config), ctx, input)) as KindOutput[K];
    },
  };
  return ctx;
}

const TINY = ['data={type: Synthetic, size: 48, test_size: 16, image_size: 8, num_classes: 4}', 'model.width=4', 'trainer.batch_size=8', 'estim.warmup.epochs=1', 'estim.search.epochs=1'];

describe('examples/custom-model: a user\'s CNN with Slots becomes a search space with one config', () => {
  it('is found by discovery (package.json "modnas" field) and the construct chain builds the supernet', async () => {
    const registry = new Registry();
    const { plan, discovery } = await prepareExperiment([here('search.yaml')], TINY, { registry, cwd: dir });
    expect(discovery?.plugins.find((p) => p.name === '@modnas-examples/custom-model')?.provides).toEqual(['TinyCNN']);
    expect(Object.fromEntries([...plan.components].map(([k, v]) => [k, v.def.id]))).toMatchObject({
      model: 'TinyCNN',
      'construct.0': 'DefaultMixedOpConstructor',
      'construct.0.mixed_op': 'BinGate',
      'construct.0.primitives.3': 'IDT',
    });

    const ctx = buildContext(registry);
    const model = plan.components.get('model')!;
    let net = (await model.def.create(model.config, ctx, { numClasses: 4, inputShape: [8, 8, 3] })) as Module;
    expect(Slot.find(net).map(([p, s]) => [p, s.chnIn, s.chnOut, s.stride])).toEqual([['conv1', 4, 4, 1], ['conv2', 4, 8, 2], ['conv3', 8, 8, 1]]);
    const fixedWeights = net.numParams();
    const c = plan.components.get('construct.0')!;
    net = await (await c.def.create(c.config, ctx, undefined)).apply(net, ctx);

    const ops = MixedOp.find(net).map(([, m]) => m);
    expect(ops.map((m) => m.candidateNames())).toEqual(Array(3).fill(['MB3E3', 'MB3E6', 'MB5E3', 'IDT']));
    expect(ctx.space.tensors().map((t) => t.shape)).toEqual([[4], [4], [4]]);
    // the supernet's weights: the fixed layers plus every candidate of every Slot, built one by one
    let want = fixedWeights;
    for (const [, s] of Slot.find(net)) {
      for (const p of ['MB3E3', 'MB3E6', 'MB5E3', 'IDT']) {
        const m = await ctx.build('primitive', p, { chnIn: s.chnIn, chnOut: s.chnOut, stride: s.stride });
        want += m.numParams();
        m.dispose();
      }
    }
    expect(net.numParams()).toBe(want);
    const y = tf.tidy(() => net.call(tf.randomNormal([2, 8, 8, 3])));
    expect(y.shape).toEqual([2, 4]);
    y.dispose();
    net.dispose();
    ctx.space.dispose();
  });

  it('with an Index mixed op the same config spans 4^3 discrete architectures', async () => {
    const registry = new Registry();
    const { plan } = await prepareExperiment([here('search.yaml')], [...TINY, 'construct.0.mixed_op={type: Index}'], { registry, cwd: dir });
    const ctx = buildContext(registry);
    const model = plan.components.get('model')!;
    const c = plan.components.get('construct.0')!;
    const net = await (await c.def.create(c.config, ctx, undefined)).apply((await model.def.create(model.config, ctx, { numClasses: 4 })) as Module, ctx);
    expect(ctx.space.size()).toBe(64n);
    net.dispose();
    ctx.space.dispose();
  });

  it('searches end to end, and the exported architecture trains as a fixed network with the chosen ops\' weights', async () => {
    const out = mkdtempSync(join(tmpdir(), 'modnas-custom-'));
    const registry = new Registry();
    const { plan } = await prepareExperiment([here('search.yaml')], [...TINY, `output_dir=${out}`], { registry, cwd: dir });
    const s = await runExperiment(plan, { registry });
    expect(Object.keys(s.estims)).toEqual(['warmup', 'search']);
    const archFile = s.estims.search.outputs[0];
    expect(archFile).toMatch(/arch_search_best\.yaml$/);
    const desc = parseYaml(readFileSync(archFile, 'utf8')) as string[];
    expect(desc).toHaveLength(3);
    expect(desc.every((d) => ['MB3E3', 'MB3E6', 'MB5E3', 'IDT'].includes(d))).toBe(true);

    const { plan: train } = await prepareExperiment([here('train.yaml')], [...TINY.filter((o) => !o.startsWith('estim')), 'estim.train.epochs=1', `output_dir=${out}`, `arch_desc=${archFile}`], { registry, cwd: dir });
    const t = await runExperiment(train, { registry });
    // the fixed network: the TinyCNN layers around the Slots plus the chosen ops, counted one by one
    const ctx = buildContext(registry);
    const bare = (await (await registry.resolve('backbone', 'TinyCNN')).create({ width: 4, num_classes: null, chn_in: null }, ctx, { numClasses: 4, inputShape: [8, 8, 3] })) as Module;
    let want = bare.numParams();
    for (const [i, [, slot]] of Slot.find(bare).entries()) {
      const m = await ctx.build('primitive', desc[i], { chnIn: slot.chnIn, chnOut: slot.chnOut, stride: slot.stride });
      want += m.numParams();
      expect(archDescOf(m)).toBe(desc[i]);
      m.dispose();
    }
    bare.dispose();
    expect(t.numParams).toBe(want);
    expect(t.estims.train.metrics).toBeDefined();
    const again = parseYaml(readFileSync(t.estims.train.outputs[0], 'utf8'));
    expect(again).toEqual(desc);

    // the user's own network exports like a first-party one: the search's chosen subnetwork and the trained network
    for (const folder of [s.outputDir, t.outputDir]) {
      const exported = await exportExperiment(folder, { registry, cwd: dir });
      expect(exported.outputs.map((o) => [o.format, o.meta.architecture.model, o.meta.verified!.max_abs_logit_diff < 1e-4])).toEqual([['tfjs', 'TinyCNN', true], ['onnx', 'TinyCNN', true]]);
    }
  });

  it('trained on MNIST, exports to tfjs and ONNX and classifies PNG files as it does in @modnas (a factorized reduce in it)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'modnas-custom-mnist-'));
    const registry = new Registry();
    const overrides = ['data={type: MNIST}', 'data_provider.train_size=64', 'data_provider.valid_size=256', 'model.width=4', 'trainer.batch_size=16', 'estim.train.epochs=1', `output_dir=${out}`, 'arch_desc=[MB3E3, IDT, MB5E3]'];
    const { plan } = await prepareExperiment([here('train.yaml')], overrides, { registry, cwd: dir });
    const t = await runExperiment(plan, { registry });
    const exported = await exportExperiment(t.outputDir, { registry, cwd: dir, evalImages: 512 });
    // IDT across conv2's stride is DARTS' factorized reduce: a shifted slice, zero padding and a concat
    const ops = (JSON.parse(readFileSync(join(exported.outputs[0].dir, 'model.json'), 'utf8')) as { modelTopology: { node: Array<{ op: string }> } }).modelTopology.node.map((n) => n.op);
    expect(ops).toEqual(expect.arrayContaining(['Slice', 'PadV2', 'ConcatV2']));
    await expectPredictionsMatch(t.outputDir, exported.outputs.map((o) => o.dir), await mnistTestPngs(join(out, 'pngs'), 5), { registry, cwd: dir });
  });
});
