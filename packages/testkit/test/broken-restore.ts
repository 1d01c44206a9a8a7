// A plugin whose optimizer forgets its state on restore (its random stream starts over): the
// conformance suite run on it must fail. Run by src/conformance.test.ts in a child vitest.
import type { SearchOptimizer } from '@modnas/core';
import { Rng, defineComponent, definePlugin, z } from '@modnas/core';

export function randomOptim(opts: { brokenRestore: boolean }) {
  return defineComponent({
    kind: 'optim',
    id: opts.brokenRestore ? 'BrokenRestoreOptim' : 'SoundRestoreOptim',
    description: 'uniform random proposals from a seeded stream',
    schema: z.strictObject({ seed: z.number().int().default(0).describe('seed') }),
    create(c, ctx): SearchOptimizer {
      let rng = new Rng(c.seed);
      return {
        hasNext: () => true,
        next: (n) => Array.from({ length: n }, () => ctx.space.random(rng)),
        step: () => undefined,
        state: () => ({ rng: rng.getState() }),
        restore(s) {
          rng = new Rng(c.seed);
          if (!opts.brokenRestore) rng.setState((s as { rng: number }).rng);
        },
      };
    },
  });
}

export const brokenPlugin = definePlugin({ meta: { name: 'broken-restore-plugin', version: '0.0.0' }, components: [randomOptim({ brokenRestore: true })] });
