// Beyond what `npm create @modnas/plugin` writes (the rest of this package is its output, made with
// --kind optim --name modnas-plugin-annealing --id SimulatedAnnealingOptim --workspace --private):
// a project that depends on the plugin finds it by discovery and uses it by id from a config.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpaceDef, StateEstimator } from '@modnas/core';
import { Registry, definePlugin, z } from '@modnas/core';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A toy problem: 6 params of 4 values; the score counts params set to 3 (optimum 6). */
const toy = definePlugin({
  meta: { name: '@test/toy', version: '1.0.0' },
  components: [
    {
      kind: 'space',
      id: 'ToySpace',
      description: 'x',
      schema: z.strictObject({}),
      create: (_c, ctx): SpaceDef => {
        for (let i = 0; i < 6; i++) ctx.space.categorical({ choices: [0, 1, 2, 3] }, 'p');
        return { describe: () => 'toy' };
      },
    },
    {
      kind: 'estim',
      id: 'ToyEstimator',
      description: 'x',
      schema: z.strictObject({ budget: z.number().int().default(200) }),
      create: (c): StateEstimator => ({
        async run(ctx) {
          let best = { arch: {}, score: -1, metrics: {} as Record<string, number> };
          for (let i = 0; i < c.budget && ctx.optim!.hasNext(); i++) {
            const [arch] = ctx.optim!.next(1);
            const score = Object.values(arch).filter((v) => v === 3).length;
            if (score > best.score) best = { arch, score, metrics: { score } };
            await ctx.optim!.step({ results: [{ arch, score, metrics: {} }] });
          }
          return { best, metrics: { best: best.score } };
        },
      }),
    },
  ],
});

describe('a third-party plugin, found by discovery', () => {
  it('is used by id from a config and finds the optimum of a toy space', async () => {
    const host = mkdtempSync(join(tmpdir(), 'modnas-host-'));
    mkdirSync(join(host, 'node_modules'), { recursive: true });
    symlinkSync(pkgDir, join(host, 'node_modules', 'modnas-plugin-annealing'));
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'my-nas-project', private: true, dependencies: { 'modnas-plugin-annealing': '^0.1.0' } }));
    const registry = new Registry();
    registry.register(toy);
    const { plan, discovery } = await prepareExperiment(
      { output_dir: join(host, 'exp'), space: { type: 'ToySpace' }, optim: { type: 'SimulatedAnnealingOptim', t0: 0.5 }, estim: { search: { type: 'ToyEstimator' } }, export: {} },
      [],
      { registry, cwd: host },
    );
    expect(discovery?.plugins.map((p) => p.name)).toEqual(['modnas-plugin-annealing']);
    expect(plan.components.get('optim')?.def.id).toBe('SimulatedAnnealingOptim');
    const summary = await runExperiment(plan, { registry });
    expect(summary.estims.search.best?.score).toBe(6);
    expect(registry.list().find((r) => r.id === 'SimulatedAnnealingOptim')).toMatchObject({ package: 'modnas-plugin-annealing', status: 'loaded' });
  });
});
