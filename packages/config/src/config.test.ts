import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { beforeEach, describe, expect, it } from 'vitest';
import { withDefaults } from './defaults.js';
import { isModnasError, definePlugin, Registry } from '@modnas/core';
import { loadConfig } from './load.js';
import { applyOverrides } from './merge.js';
import { configInvalid, parseComponentConfig, validateExperiment } from './validate.js';
import { stub } from '../../../test/fixtures.js';

let registry: Registry;
beforeEach(() => {
  registry = new Registry();
  registry.register(
    definePlugin({
      meta: { name: '@test/all', version: '1.0.0' },
      components: [
        stub('backbone', 'CIFAR_MobileNetV2_GPU'),
        stub('backbone', 'CIFAR_MobileNetV2'),
        stub('mixed-op', 'BinGate', z.strictObject({ primitives: z.array(z.string()).default([]) }), { aliases: ['BinaryGateMixedOp'] }),
        stub('primitive', 'MB3E3'),
        stub('primitive', 'MB3E6'),
        stub('construct', 'DefaultMixedOpConstructor', z.strictObject({ mixed_op: z.object({ type: z.string() }).catchall(z.unknown()).default({ type: 'BinGate' }), primitives: z.array(z.string()).default([]) }), {
          refs: (c: { mixed_op: { type: string }; primitives: string[] }) => [
            { kind: 'mixed-op', spec: c.mixed_op, path: 'mixed_op' },
            ...c.primitives.map((p, i) => ({ kind: 'primitive' as const, spec: p, path: `primitives.${i}` })),
          ],
        }),
        stub('optim', 'BinaryGateOptim', z.strictObject({ lr: z.number().positive().default(1e-3) })),
        stub('optim', 'DARTSOptim'),
        stub('estim', 'SuperNetEstimator', z.strictObject({ epochs: z.number().int().positive().default(1) }), { aliases: ['SuperNetEstim'] }),
        stub('estim', 'DefaultEstimator', z.strictObject({ epochs: z.number().int().positive().default(1) })),
        stub('trainer', 'DefaultTrainer', z.strictObject({ lr: z.number().default(0.1), optimizer: z.string().default('sgd'), lr_scheduler: z.string().default('cosine'), momentum: z.number().default(0.9) })),
        stub('dataset', 'MNIST'),
        stub('exporter', 'DefaultSlotTraversalExporter'),
      ],
    }),
  );
});

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'modnas-config-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

async function configError(raw: Record<string, unknown>) {
  try {
    await validateExperiment(raw as never, { registry });
  } catch (e) {
    if (isModnasError(e)) return e;
    throw e;
  }
  throw new Error('expected the config to be rejected');
}

describe('native config', () => {
  const good = {
    model: { type: 'CIFAR_MobileNetV2' },
    construct: [{ type: 'DefaultMixedOpConstructor', mixed_op: { type: 'BinaryGateMixedOp' }, primitives: ['MB3E3'] }],
    optim: { type: 'BinaryGateOptim', args: { lr: 0.01 } },
    estim: { search: { type: 'SuperNetEstim', epochs: 2 } },
  };

  it('validates a good config and fills defaults', async () => {
    const plan = await validateExperiment(withDefaults(good), { registry });
    expect(plan.config.name).toBe('default');
    expect(plan.config.data_provider.train_portion).toBe(0.5);
    expect(plan.components.get('data')?.def.id).toBe('MNIST');
    expect(plan.components.get('optim')?.config).toEqual({ lr: 0.01 });
    expect(plan.components.get('estim.search')?.def.id).toBe('SuperNetEstimator');
  });

  it('quick: true is resolved while validating: the plan holds the capped epochs and data sizes', async () => {
    const plan = await validateExperiment(withDefaults({ ...good, quick: true, data_provider: { train_size: 100 }, estim: { warmup: { type: 'DefaultEstimator', epochs: 5 }, search: { type: 'SuperNetEstim' } } }), { registry });
    expect(plan.components.get('estim.warmup')?.config).toEqual({ epochs: 1 });
    expect(plan.components.get('estim.search')?.config).toEqual({ epochs: 1 });
    expect(plan.config.data_provider).toMatchObject({ train_size: 100, valid_size: 256 });
    const full = await validateExperiment(withDefaults({ ...good, estim: { warmup: { type: 'DefaultEstimator', epochs: 5 } } }), { registry });
    expect(full.components.get('estim.warmup')?.config).toEqual({ epochs: 5 });
    expect(full.config.data_provider.train_size).toBeUndefined();
  });

  it('components built at run time are parsed on the same path, with the same error lines', async () => {
    const def = await registry.resolve('optim', 'BinaryGateOptim');
    expect(parseComponentConfig(def, { type: 'BinaryGateOptim', lr: 0.5 }, 'x')).toEqual({ ok: true, config: { lr: 0.5 } });
    const bad = parseComponentConfig(def, { type: 'BinaryGateOptim', args: { lr: -1 }, extra: 1 }, 'construct.0.optim');
    expect(bad).toEqual({ ok: false, issues: ['construct.0.optim.args.lr: Too small: expected number to be >0, got -1', 'construct.0.optim: unknown key "extra"'] });
    const e = await configError({ ...good, optim: { type: 'BinaryGateOptim', args: { lr: -1 }, extra: 1 } });
    for (const line of (bad as { issues: string[] }).issues) expect(e.message).toContain(line.replace('construct.0.optim', 'optim'));
    expect(configInvalid((bad as { issues: string[] }).issues).code).toBe('MODNAS_E_CONFIG_INVALID');
  });

  it('loadConfig applies the experiment-level defaults (the embedded dataset, the Slot exporter) in one place', () => {
    const f = tmpFile('x.yaml', 'model: { type: CIFAR_MobileNetV2 }\nestim: { s: { type: SuperNetEstimator } }\n');
    const { raw } = loadConfig([f]);
    expect(raw.data).toEqual({ type: 'MNIST' });
    expect(raw.export).toEqual({ default: { type: 'DefaultSlotTraversalExporter' } });
  });

  it('reports all problems at once, each with its dotted path', async () => {
    const e = await configError({
      ...good,
      seed: -3,
      optim: { type: 'BinaryGateOptim', args: { lr: -1 } },
      estim: { search: { type: 'SuperNetEstimator', epochs: -1 }, warmup: { type: 'DefaultEstimatr' } },
      construct: [{ type: 'DefaultMixedOpConstructor', primitives: ['MB3E3', 'MB9E9'] }],
    });
    expect(e.code).toBe('MODNAS_E_CONFIG_INVALID');
    // top-level schema errors come first and alone (the layout must be right to go on)
    expect(e.message).toContain('seed:');
    const e2 = await configError({
      ...good,
      optim: { type: 'BinaryGateOptim', args: { lr: -1 } },
      estim: { search: { type: 'SuperNetEstimator', epochs: -1 }, warmup: { type: 'DefaultEstimatr' } },
      construct: [{ type: 'DefaultMixedOpConstructor', primitives: ['MB3E3', 'MB9E9'], bogus: 1 }],
    });
    expect(e2.message).toContain('4 problems');
    expect(e2.message).toContain('optim.args.lr: Too small');
    expect(e2.message).toContain('got -1');
    expect(e2.message).toContain('estim.search.epochs:');
    expect(e2.message).toContain('estim.warmup.type: unknown estim "DefaultEstimatr". Did you mean "DefaultEstimator"');
    expect(e2.message).toContain('construct.0: unknown key "bogus"');
  });

  it('checks nested references (primitives of a constructor) before building', async () => {
    const e = await configError({ ...good, construct: [{ type: 'DefaultMixedOpConstructor', primitives: ['MB3E3', 'MB9E9'] }] });
    expect(e.message).toContain('construct.0.primitives.1.type: unknown primitive "MB9E9"');
  });

  it('rejects unknown top-level keys and a missing model', async () => {
    const e = await configError({ estim: { s: { type: 'DefaultEstimator' } }, modle: {} });
    expect(e.message).toContain('unknown key "modle"');
    const e2 = await configError({ estim: { s: { type: 'DefaultEstimator' } } });
    expect(e2.message).toContain('model: no model (or space) is configured');
  });

  it('applies overrides as YAML values on dotted paths', () => {
    const o = applyOverrides({ estim: { search: { epochs: 1 } }, list: [1, 2] }, ['estim.search.epochs=5', 'name=run1', 'list.1=9', 'flag=true', 'arr=[1, 2]']);
    expect(o).toEqual({ estim: { search: { epochs: 5 } }, name: 'run1', list: [1, 9], flag: true, arr: [1, 2] });
    expect(() => applyOverrides({}, ['novalue'])).toThrow(/key=value/);
  });

  it('names a missing file and a YAML syntax error with its line', () => {
    expect(() => loadConfig(['/nonexistent/x.yaml'])).toThrow(/config file \/nonexistent\/x.yaml does not exist/);
    const bad = tmpFile('bad.yaml', 'model:\n  type: [unclosed\n');
    expect(() => loadConfig([bad])).toThrow(/bad.yaml:\d+:\d+ is not valid YAML/);
  });

  it('merges files in order, later wins, lists replaced', () => {
    const a = tmpFile('a.yaml', 'name: a\nestim:\n  search: { type: SuperNetEstimator, epochs: 1 }\nconstruct: [{ type: X }]\n');
    const b = tmpFile('b.yaml', 'estim:\n  search: { epochs: 3 }\nconstruct: [{ type: Y }]\n');
    const { raw } = loadConfig([a, b], ['name=c']);
    expect(raw).toEqual({ name: 'c', estim: { search: { type: 'SuperNetEstimator', epochs: 3 } }, construct: [{ type: 'Y' }] });
  });
});
