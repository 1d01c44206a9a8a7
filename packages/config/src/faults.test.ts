// Config keys that would pollute prototypes, and -o overrides that are malformed: coded errors naming them.
import { describe, expect, it } from 'vitest';
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

