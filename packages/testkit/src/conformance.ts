import { readFileSync } from 'node:fs';
import type { AnyComponentDef, ComponentKind, KindInput, ModnasPlugin } from '@modnas/core';
import { Module, getRegistry, manifestAliases, manifestKinds, tf } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { makeBuildContext } from './fixtures.js';

export interface ConformanceOptions {
  /** URL or path of the plugin's package.json (pass `new URL('../package.json', import.meta.url)`). */
  packageJson: URL | string;
  /** A minimal config per component id, where `{}` is not enough (e.g. a required path). */
  configs?: Record<string, Record<string, unknown>>;
  /** Run-time input per id (defaults: a 4->8 channel Slot for ops, 10 classes at 16x16x3 for backbones). */
  inputs?: Record<string, unknown>;
  /** Input shape per id for the step check of network components (default [2, 8, 8, chnIn] / [2, 16, 16, 3]). */
  inputShapes?: Record<string, number[]>;
  /** Ids whose create() needs more than a fresh container (skip the create and step checks, with why). */
  skipCreate?: Record<string, string>;
  /** A custom step for non-network components: run one unit of work on the created instance. */
  step?: Record<string, (instance: unknown) => void | Promise<void>>;
}

const NETWORK_KINDS: ComponentKind[] = ['mixed-op', 'primitive', 'backbone'];

function defaultInput(def: AnyComponentDef): unknown {
  if (def.kind === 'mixed-op' || def.kind === 'primitive') return { chnIn: 4, chnOut: 8, stride: 1 } satisfies KindInput['primitive'];
  if (def.kind === 'backbone') return { numClasses: 10, inputShape: [16, 16, 3] } satisfies KindInput['backbone'];
  return undefined;
}

/**
 * The checks every plugin passes, as vitest tests: meta matches package.json, provides matches
 * what it registers, defaults parse, create() works in a fresh container, and one step (forward
 * and backward for network components) leaves tf.memory().numTensors unchanged.
 */
export function describeConformance(plugin: ModnasPlugin, opts: ConformanceOptions): void {
  const pj = JSON.parse(readFileSync(opts.packageJson, 'utf8')) as { name: string; version: string; modnas?: { kind: string; provides: string[]; schemaVersion: number; aliases?: Record<string, string[]>; kinds?: Record<string, string> } };

  describe(`conformance: ${plugin.meta.name}`, () => {
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
      reg.register(plugin);
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
        it.skipIf(skip !== undefined)(`create() works in a fresh container and one step leaks no tensors${skip ? ` (skipped: ${skip})` : ''}`, async () => {
          getRegistry().register(plugin);
          const ctx = makeBuildContext();
          const before = tf.memory().numTensors;
          const config = def.schema.parse(opts.configs?.[def.id] ?? {});
          const instance = await def.create(config, ctx, (opts.inputs?.[def.id] ?? defaultInput(def)));
          expect(instance).toBeDefined();
          if (NETWORK_KINDS.includes(def.kind)) {
            expect(instance).toBeInstanceOf(Module);
            const m = instance as Module;
            const input = (opts.inputs?.[def.id] ?? defaultInput(def)) as { chnIn?: number };
            const shape = opts.inputShapes?.[def.id] ?? (def.kind === 'backbone' ? [2, 16, 16, 3] : [2, 8, 8, input.chnIn ?? 4]);
            const mid = tf.memory().numTensors;
            const vars = [...m.parameters(), ...ctx.space.tensors().map((t) => t.variable)];
            tf.tidy(() => {
              const x = tf.randomNormal(shape);
              const y = m.call(x);
              expect(y.shape[0]).toBe(shape[0]);
              if (vars.length > 0) {
                const { grads } = tf.variableGrads(() => tf.mean(tf.square(m.call(x))), vars);
                expect(Object.keys(grads).length).toBeGreaterThan(0);
                for (const g of Object.values(grads)) expect(Number.isFinite(tf.sum(g).dataSync()[0])).toBe(true);
              }
            });
            expect(tf.memory().numTensors).toBe(mid);
            m.dispose();
          } else if (opts.step?.[def.id]) {
            const mid = tf.memory().numTensors;
            await opts.step[def.id](instance);
            expect(tf.memory().numTensors).toBe(mid);
          }
          ctx.space.dispose();
          expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
        });
      });
    }
  });
}
