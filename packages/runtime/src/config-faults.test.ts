// Config faults through prepareExperiment: a prototype key in a config file, a bad value set by -o.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { Registry, definePlugin } from '@modnas/core';
import { prepareExperiment } from './experiment.js';
import { codeOf } from '../../../test/fixtures.js';

function registry(): Registry {
  const r = new Registry();
  r.register(
    definePlugin({
      meta: { name: '@test/faults', version: '1.0.0' },
      components: [
        { kind: 'space', id: 'S', description: 'x', schema: z.strictObject({}), create: () => ({ describe: () => 's' }) },
        { kind: 'estim', id: 'E', description: 'x', schema: z.strictObject({ epochs: z.number().int().positive().default(1) }), create: () => ({ run: async () => ({ metrics: {} }) }) },
      ],
    }),
  );
  return r;
}

describe('config keys that would pollute prototypes', () => {
  it('a config file with a __proto__ or constructor key is refused, naming the file and the key', async () => {
    const f = join(mkdtempSync(join(tmpdir(), 'modnas-keys-')), 'bad.yaml');
    writeFileSync(f, 'space: { type: S }\nestim:\n  s:\n    type: E\n    __proto__: { polluted: 1 }\n');
    const r = await codeOf(prepareExperiment([f], [], { registry: registry(), discover: false }));
    expect(r.code).toBe('MODNAS_E_CONFIG_KEY');
    expect(r.message).toContain('estim.s.__proto__');
    expect(r.message).toContain(f);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});


describe('-o problems', () => {
  it('a bad value set by -o names the override', async () => {
    const r = await codeOf(prepareExperiment({ space: { type: 'S' }, estim: { s: { type: 'E' } } }, ['estim.s.epochs=-3'], { registry: registry(), discover: false }));
    expect(r.code).toBe('MODNAS_E_CONFIG_INVALID');
    expect(r.message).toMatch(/estim\.s\.epochs: .* \(set by -o estim\.s\.epochs=-3\)/);
  });
});
