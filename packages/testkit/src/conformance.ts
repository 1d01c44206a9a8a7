import { mkdtempSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyComponentDef, BuildContext, ComponentKind, EstimContext, KindInput, ModnasPlugin, StateEstimator } from '@modnas/core';
import { Module, getRegistry, manifestAliases, manifestKinds, tf } from '@modnas/core';
import type { ExperimentStore, StoreFactory } from '@modnas/services';
import { isStoreFactory } from '@modnas/services';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkBackbone, checkEstimator, checkEstimatorRun, checkMixedOp, checkOptimizer } from './behaviour.js';
import { makeBuildContext } from './fixtures.js';
import { registerTestPrimitives } from './primitives.js';
import type { StoreContractOptions } from './store-contract.js';
import { describeStoreContract } from './store-contract.js';

export interface ConformanceOptions {
  /** URL or path of the plugin's package.json (pass `new URL('../package.json', import.meta.url)`). */
  packageJson: URL | string;
  /** A minimal config per component id, where `{}` is not enough (e.g. a required path). */
  configs?: Record<string, Record<string, unknown>>;
  /** Run-time input per id (defaults: a 4->8 channel Slot for ops, 10 classes at 16x16x3 for backbones). */
  inputs?: Record<string, unknown>;
  /** Input shape per id for the step check of network components (default [2, 8, 8, chnIn] / [2, 16, 16, 3]). */
  inputShapes?: Record<string, number[]>;
  /** Ids whose create() needs more than a fresh container (skip the create, step and behaviour checks, with why). */
  skipCreate?: Record<string, string>;
  /** Ids whose behaviour check (optimizer round trip, mixed-op arch params, estimator run, store contract) does not apply, with why. */
  skipBehaviour?: Record<string, string>;
  /** A custom step for non-network components: run one unit of work on the created instance. */
  step?: Record<string, (instance: unknown) => void | Promise<void>>;
  /**
   * Per estimator id, the context its behaviour check runs it in, where the tiny default (a linear
   * model over a 2-choice param, an SGD trainer, random proposals) does not fit (e.g. it needs
   * elastic blocks); `done` frees it afterwards.
   */
  estimContexts?: Record<string, () => Promise<{ ctx: EstimContext; done?: () => void }>>;
  /** Options of the store contract run on every store component (e.g. how to corrupt a checkpoint). */
  storeContract?: StoreContractOptions;
}

const NETWORK_KINDS: ComponentKind[] = ['mixed-op', 'primitive', 'backbone'];
/** Candidates a mixed op gets when its config names none (the testkit's seeded stand-in primitive). */
const TEST_PRIMITIVES = ['TestLin', { type: 'TestLin', seed: 1 }];

function defaultInput(def: AnyComponentDef): unknown {
  if (def.kind === 'mixed-op' || def.kind === 'primitive') return { chnIn: 4, chnOut: 8, stride: 1 } satisfies KindInput['primitive'];
  if (def.kind === 'backbone') return { numClasses: 10, inputShape: [16, 16, 3] } satisfies KindInput['backbone'];
  return undefined;
}

/** The config the create and behaviour checks use: the given one, else defaults (a mixed op with no candidates gets TestLin ones). */
function configOf(def: AnyComponentDef, opts: ConformanceOptions): unknown {
  const given = opts.configs?.[def.id];
  if (given) return def.schema.parse(given);
  if (def.kind === 'mixed-op') {
    const withPrims = def.schema.safeParse({ primitives: TEST_PRIMITIVES });
    const plain = def.schema.parse({}) as { primitives?: unknown[] };
    if (withPrims.success && (plain.primitives?.length ?? 0) === 0) return withPrims.data;
  }
  return def.schema.parse({});
}

/** The store contract over a store component: each store opened by the component's factory in a fresh folder. */
function describeStoreComponent(plugin: ModnasPlugin, def: AnyComponentDef, opts: ConformanceOptions): void {
  let factory: StoreFactory | undefined;
  const dirs = new WeakMap<ExperimentStore, string>();
  beforeAll(async () => {
    const made = await def.create(configOf(def, opts), makeBuildContext(), undefined);
    expect(isStoreFactory(made), `${def.id}: create() of a store returns a StoreFactory (an object with open({ dir, experiment }))`).toBe(true);
    factory = made as StoreFactory;
  });
  const open = (dir: string): ExperimentStore => {
    const s = factory!.open({ dir, experiment: 'x' });
    dirs.set(s, dir);
    return s;
  };
  describeStoreContract(`${plugin.meta.name} ${def.id}`, () => open(mkdtempSync(join(tmpdir(), 'modnas-conformance-store-'))), (s) => open(dirs.get(s)!), opts.storeContract);
}

/**
 * The checks every plugin passes, as vitest tests: meta matches package.json, provides, aliases
 * and kinds match what it registers, defaults parse, create() works in a fresh container, one step
 * leaks no tensors, and per kind what the component must do: an optimizer is driven through
 * next/step on a toy problem and its state round-trips through restore to the same proposals; a
 * backbone's Slots are filled and it runs forward and backward; a mixed op's arch params change its
 * output; an estimator runs on a tiny space and returns metrics; a store passes the store contract.
 */
export function describeConformance(plugin: ModnasPlugin, opts: ConformanceOptions): void {
  // the experiment folder components may write in (an exporter to a file): one per plugin, made when first needed
  let scratch: string | undefined;
  const outputDir = (): string => (scratch ??= mkdtempSync(join(tmpdir(), 'modnas-conformance-')));
  const pj = JSON.parse(readFileSync(opts.packageJson, 'utf8')) as { name: string; version: string; modnas?: { kind: string; provides: string[]; schemaVersion: number; aliases?: Record<string, string[]>; kinds?: Record<string, string> } };

  describe(`conformance: ${plugin.meta.name}`, () => {
    beforeAll(() => {
      registerTestPrimitives();
      getRegistry().register(plugin);
    });

    it('meta matches package.json', () => {
      expect(plugin.meta.name).toBe(pj.name);
      expect(plugin.meta.version).toBe(pj.version);
      expect(pj.modnas?.schemaVersion).toBe(1);
    });

    it('modnas.provides lists exactly the ids it registers', () => {
      expect([...(pj.modnas?.provides ?? [])].sort()).toEqual(plugin.components.map((c) => c.id).sort());
    });

    it('modnas.aliases lists exactly the aliases it registers (so a miss needs no import)', () => {
      expect(pj.modnas?.aliases, 'package.json has no modnas.aliases (use {} when there are none)').toBeDefined();
      const said = Object.fromEntries(Object.entries(pj.modnas?.aliases ?? {}).filter(([, a]) => a.length > 0).map(([id, a]) => [id, [...a].sort()]));
      expect(said).toEqual(manifestAliases(plugin.components));
    });

    it('modnas.kinds names the kind of every id whose kind is not modnas.kind', () => {
      expect(pj.modnas?.kinds ?? {}).toEqual(manifestKinds(pj.modnas?.kind ?? '', plugin.components));
    });

    it('registers in the registry and every id and alias resolves', async () => {
      const reg = getRegistry();
      for (const c of plugin.components) {
        for (const id of [c.id, ...(c.aliases ?? [])]) expect((await reg.resolve(c.kind, id)).id).toBe(c.id);
      }
    });

    for (const def of plugin.components) {
      describe(def.id, () => {
        it('has a description and its defaults parse', () => {
          expect(def.description.length).toBeGreaterThan(0);
          expect(def.schema.safeParse(opts.configs?.[def.id] ?? {}).success).toBe(true);
        });

        it('rejects unknown keys (strict schema)', () => {
          expect(def.schema.safeParse({ ...(opts.configs?.[def.id] ?? {}), __not_a_key__: 1 }).success).toBe(false);
        });

        const skip = opts.skipCreate?.[def.id];
        const input = opts.inputs?.[def.id] ?? defaultInput(def);
        const shapeOf = (): number[] => opts.inputShapes?.[def.id] ?? (def.kind === 'backbone' ? [2, 16, 16, 3] : [2, 8, 8, (input as { chnIn?: number }).chnIn ?? 4]);
        const checkNetwork = (m: Module, ctx: BuildContext): void => {
          expect(m).toBeInstanceOf(Module);
          if (def.kind === 'backbone') return checkBackbone(m, shapeOf());
          const vars = [...m.parameters(), ...ctx.space.tensors().map((t) => t.variable)];
          tf.tidy(() => {
            const x = tf.randomNormal(shapeOf());
            expect(m.call(x).shape[0]).toBe(shapeOf()[0]);
            if (vars.length > 0) {
              const { grads } = tf.variableGrads(() => tf.mean(tf.square(m.call(x))), vars);
              expect(Object.keys(grads).length).toBeGreaterThan(0);
              for (const g of Object.values(grads)) expect(Number.isFinite(tf.sum(g).dataSync()[0])).toBe(true);
            }
          });
        };

        const why = skip ? ` (skipped: ${skip})` : def.kind === 'backbone' ? ' (empty Slots filled with TestLin ops; its weights get gradients)' : '';
        it.skipIf(skip !== undefined)(`create() works in a fresh container and one step leaks no tensors${why}`, async () => {
          const ctx = makeBuildContext({ outputDir: outputDir() });
          const before = tf.memory().numTensors;
          const instance = await def.create(configOf(def, opts), ctx, input);
          expect(instance).toBeDefined();
          if (NETWORK_KINDS.includes(def.kind)) {
            const m = instance as Module;
            const mid = tf.memory().numTensors;
            checkNetwork(m, ctx);
            if (def.kind !== 'backbone') expect(tf.memory().numTensors).toBe(mid);
            m.dispose();
          } else if (opts.step?.[def.id]) {
            const mid = tf.memory().numTensors;
            await opts.step[def.id](instance);
            expect(tf.memory().numTensors).toBe(mid);
          }
          ctx.space.dispose();
          expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
        });

        const skipB = skip ?? opts.skipBehaviour?.[def.id];
        if (def.kind === 'optim') {
          it.skipIf(skipB !== undefined)(`behaviour: next/step on a toy problem, and state() restored into a fresh instance proposes the same${skipB ? ` (skipped: ${skipB})` : ''}`, async () => {
            const before = tf.memory().numTensors;
            await checkOptimizer(def, configOf(def, opts));
            expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 64);
          });
        } else if (def.kind === 'mixed-op') {
          it.skipIf(skipB !== undefined)(`behaviour: its arch params reach the output (α gets a gradient, or a changed choice changes it)${skipB ? ` (skipped: ${skipB})` : ''}`, async () => {
            const ctx = makeBuildContext();
            const m = (await def.create(configOf(def, opts), ctx, input)) as Module;
            checkMixedOp(m, ctx.space, shapeOf());
            m.dispose();
            ctx.space.dispose();
          });
        } else if (def.kind === 'estim') {
          it.skipIf(skipB !== undefined)(`behaviour: runs on a tiny space (the plugin's own space component, if it has one) and returns metrics${skipB ? ` (skipped: ${skipB})` : ''}`, async () => {
            const ctx = makeBuildContext();
            // a benchmark's estimator answers only on its own space: build the plugin's space first, as the runner would
            const spaceDef = plugin.components.find((c) => c.kind === 'space');
            if (spaceDef && !opts.estimContexts?.[def.id]) await spaceDef.create(configOf(spaceDef, opts), ctx, undefined);
            const estim = (await def.create(configOf(def, opts), ctx, undefined)) as StateEstimator;
            const own = opts.estimContexts?.[def.id];
            if (own) {
              const made = await own();
              try {
                await checkEstimatorRun(estim, made.ctx);
              } finally {
                made.done?.();
              }
            } else await checkEstimator(estim, ctx);
            ctx.space.dispose();
          });
        } else if (def.kind === 'store' && skipB === undefined) {
          describeStoreComponent(plugin, def, opts);
        }
      });
    }
  });
}
