// Config keys that would pollute prototypes, -o overrides that are malformed, files too large to be
// configs: coded errors naming them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readYamlFile } from './load.js';
import { applyOverrides } from './merge.js';
import { codeOf } from '../../../test/fixtures.js';

describe('config keys that would pollute prototypes', () => {
  for (const o of ['__proto__.polluted=1', 'estim.constructor.x=1', 'a.prototype=1', 'estim={__proto__: {polluted: 1}}']) {
    it(`-o ${o} is refused with MODNAS_E_CONFIG_KEY naming the override`, async () => {
      const r = await codeOf(() => applyOverrides({}, [o]));
      expect(r.code).toBe('MODNAS_E_CONFIG_KEY');
      expect(r.message).toContain(`-o ${o}`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});

describe('-o problems', () => {
  it('an override with an empty key part names it', async () => {
    const r = await codeOf(() => applyOverrides({}, ['estim..epochs=2']));
    expect(r.code).toBe('MODNAS_E_CONFIG_OVERRIDE');
    expect(r.message).toContain('-o estim..epochs=2');
  });
});


describe('files too large to be configs', () => {
  it('a 50 MB config (one long flow list) is refused within a second, before it is parsed, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-big-'));
    const f = join(dir, 'big.yaml');
    writeFileSync(f, `estim: [${'1, '.repeat(17_500_000)}1]\n`);
    const t0 = Date.now();
    const r = await codeOf(() => readYamlFile(f));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.code).toBe('MODNAS_E_CONFIG_TOO_LARGE');
    expect(r.message).toMatch(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is 50\\.1 MB; config and arch files are read up to 4 MB`));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a folder given as a config file is a coded error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modnas-dir-'));
    expect((await codeOf(() => readYamlFile(dir))).code).toBe('MODNAS_E_CONFIG_FILE');
  });
});
