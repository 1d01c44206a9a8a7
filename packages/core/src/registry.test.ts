import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { isModnasError } from './errors.js';
import { defineComponent, defineEngine, definePlugin, isEngineDef } from './plugin.js';
import { Registry } from './registry.js';

const optim = defineComponent({
  kind: 'optim',
  id: 'DARTSOptim',
  aliases: ['DARTSOptimAlias'],
  description: 'test',
  schema: z.strictObject({ lr: z.number().default(1) }),
  create: () => ({ hasNext: () => true, next: () => [], step: () => undefined, state: () => ({}), restore: () => undefined }),
});
const plugin = definePlugin({ meta: { name: '@test/optim', version: '1.0.0' }, components: [optim] });

async function error(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (isModnasError(e)) return e;
    throw e;
  }
  throw new Error('expected a ModnasError');
}

describe('Registry', () => {
  it('resolves ids and aliases to the same component', async () => {
    const r = new Registry();
    r.register(plugin);
    expect((await r.resolve('optim', 'DARTSOptim')).id).toBe('DARTSOptim');
    expect((await r.resolve('optim', 'DARTSOptimAlias')).id).toBe('DARTSOptim');
    expect(r.list()).toEqual([{ kind: 'optim', id: 'DARTSOptim', aliases: ['DARTSOptimAlias'], description: 'test', package: '@test/optim', version: '1.0.0', status: 'loaded' }]);
  });

  it('lists the manifest\'s descriptions before the code is imported, and checks them against the code on import', async () => {
    const r = new Registry();
    let imported = 0;
    const load = async () => {
      imported++;
      return plugin;
    };
    r.addPackage({ name: '@test/optim', version: '1.0.0', kind: 'optim', provides: ['DARTSOptim'], aliases: { DARTSOptim: ['DARTSOptimAlias'] }, descriptions: { DARTSOptim: 'test' }, load });
    expect(r.list()[0]).toMatchObject({ id: 'DARTSOptim', description: 'test', status: 'lazy' });
    expect(r.suggest('DARTSOptimAlas')).toContain('DARTSOptimAlias');
    expect(imported).toBe(0);
    expect((await r.resolve('optim', 'DARTSOptim')).id).toBe('DARTSOptim');

    const stale = new Registry();
    stale.addPackage({ name: '@test/optim', version: '1.0.0', kind: 'optim', provides: ['DARTSOptim'], aliases: { DARTSOptim: ['DARTSOptimAlias'] }, descriptions: { DARTSOptim: 'old words' }, load });
    const e = await error(stale.resolve('optim', 'DARTSOptim'));
    expect(e.code).toBe('MODNAS_E_PLUGIN_PROVIDES');
    expect(e.message).toContain('modnas.descriptions does not match');
    expect(e.fix).toContain('"modnas.descriptions" to {"DARTSOptim":"test"}');
  });

  it('suggests close ids on a miss', async () => {
    const r = new Registry();
    r.register(plugin);
    const e = await error(r.resolve('optim', 'DartOptim', 'optim.type'));
    expect(e.code).toBe('MODNAS_E_REGISTRY_MISSING');
    expect(e.message).toContain('Did you mean "DARTSOptim"');
    expect(e.message).toContain('where: optim.type');
  });

  it("matches ids and aliases as the original's registry did: case, '_' and '-' ignored", async () => {
    const r = new Registry();
    r.register(plugin);
    for (const name of ['dartsoptim', 'DARTS_Optim', 'darts-optim', 'Darts_Optim_Alias']) expect((await r.resolve('optim', name)).id, name).toBe('DARTSOptim');
    expect(r.has('darts_optim')).toBe(true);
    // still a miss when a letter differs
    expect((await error(r.resolve('optim', 'dartoptim'))).code).toBe('MODNAS_E_REGISTRY_MISSING');
    // lazily: a manifest's id and alias match loosely before the package is imported
    const lazy = new Registry();
    lazy.addPackage({ name: '@test/optim', version: '1.0.0', kind: 'optim', provides: ['DARTSOptim'], aliases: { DARTSOptim: ['DARTSOptimAlias'] }, descriptions: { DARTSOptim: 'test' }, load: async () => plugin });
    expect((await lazy.resolve('optim', 'dartsoptimalias')).id).toBe('DARTSOptim');
    // an install hint matches loosely too
    const hints = new Registry();
    hints.setInstallHints({ BinaryGateOptim: '@modnas/optim-binary-gate' });
    expect((await error(hints.resolve('optim', 'binary_gate_optim'))).fix).toContain('npm i @modnas/optim-binary-gate');
  });

  it('two components one loose name apart: the exact name resolves, the loose one is ambiguous, and problems() reports the clash', async () => {
    const other = defineComponent({ ...optim, id: 'Darts_Optim', aliases: [] });
    const r = new Registry();
    r.register(plugin);
    r.register(definePlugin({ meta: { name: '@test/other', version: '1.0.0' }, components: [other] }));
    expect((await r.resolve('optim', 'Darts_Optim')).id).toBe('Darts_Optim');
    expect((await r.resolve('optim', 'DARTSOptim')).id).toBe('DARTSOptim');
    const e = await error(r.resolve('optim', 'dartsoptim', 'optim.type'));
    expect(e).toMatchObject({ code: 'MODNAS_E_REGISTRY_AMBIGUOUS', where: 'optim.type' });
    expect(e.message).toContain('"DARTSOptim" and "Darts_Optim"');
    const clash = r.problems().find((p) => (p.error as { code?: string }).code === 'MODNAS_E_REGISTRY_LOOSE_CLASH');
    expect(clash?.package).toBe('@test/optim, @test/other');
    // an id and its alias one loose name apart are one component, not a clash (FLOPsMetrics and FlopsMetrics)
    const same = new Registry();
    same.register(definePlugin({ meta: { name: '@test/same', version: '1.0.0' }, components: [defineComponent({ ...optim, id: 'FLOPsOptim', aliases: ['FlopsOptim'] })] }));
    expect(same.problems()).toEqual([]);
    expect((await same.resolve('optim', 'flops_optim')).id).toBe('FLOPsOptim');
  });

  it('names the package to install for an id in the install hints that is not installed', async () => {
    const r = new Registry();
    r.setInstallHints({ SuperNetEstimator: '@modnas/estim-supernet' });
    const e = await error(r.resolve('estim', 'SuperNetEstimator', 'estim.search.type'));
    expect(e.message).toContain('provided by @modnas/estim-supernet');
    expect(e.fix).toContain('npm i @modnas/estim-supernet');
  });

  it('rejects an id of the wrong kind, naming both kinds', async () => {
    const r = new Registry();
    r.register(plugin);
    const e = await error(r.resolve('estim', 'DARTSOptim', 'estim.search.type'));
    expect(e.code).toBe('MODNAS_E_REGISTRY_KIND');
    expect(e.message).toContain('is a optim, but a estim is expected');
  });

  it('reports an id provided by two packages, naming both', async () => {
    const r = new Registry();
    r.register(plugin);
    expect(() => r.register(definePlugin({ meta: { name: '@other/optim', version: '2.0.0' }, components: [{ ...optim }] }))).toThrow(/@test\/optim and @other\/optim/);
  });

  it('imports a lazy package only when one of its ids is used', async () => {
    const r = new Registry();
    let loads = 0;
    r.addPackage({
      name: '@test/optim',
      version: '1.0.0',
      kind: 'optim',
      provides: ['DARTSOptim'],
      load: async () => {
        loads++;
        return { default: plugin };
      },
    });
    expect(loads).toBe(0);
    expect(r.list()[0].status).toBe('lazy');
    await r.resolve('optim', 'DARTSOptim');
    await r.resolve('optim', 'DARTSOptimAlias');
    expect(loads).toBe(1);
  });

  it('marks a package broken when its provides do not match its components', async () => {
    const r = new Registry();
    r.addPackage({ name: '@test/optim', version: '1.0.0', kind: 'optim', provides: ['DARTSOptim', 'Ghost'], load: async () => ({ default: plugin }) });
    const e = await error(r.resolve('optim', 'DARTSOptim'));
    expect(e.code).toBe('MODNAS_E_PLUGIN_PROVIDES');
    expect(e.message).toContain('missing: Ghost');
    expect(r.problems().map((p) => p.package)).toContain('@test/optim');
  });

  it('resolves an alias of a package that discovery found but has not imported yet', async () => {
    const r = new Registry();
    r.addPackage({ name: '@test/optim', version: '1.0.0', kind: 'optim', provides: ['DARTSOptim'], load: async () => ({ default: plugin }) });
    expect((await r.resolve('optim', 'DARTSOptimAlias')).id).toBe('DARTSOptim');
  });

  it('registers engines as components of kind engine, lazily, with their priority', async () => {
    const r = new Registry();
    const fast = defineEngine({ name: 'fast', priority: 70, setup: async () => undefined });
    let loads = 0;
    r.addPackage({ name: '@test/engine', version: '1.0.0', kind: 'engine', provides: ['fast'], aliases: {}, load: async () => (loads++, { default: definePlugin({ meta: { name: '@test/engine', version: '1.0.0' }, components: [fast] }) }) });
    expect(r.list()).toEqual([{ kind: 'engine', id: 'fast', aliases: [], description: '', package: '@test/engine', version: '1.0.0', status: 'lazy' }]);
    expect(loads).toBe(0);
    const def = await r.resolve('engine', 'fast');
    expect(isEngineDef(def) && def.priority).toBe(70);
    expect(def.schema.parse({})).toEqual({});
    expect((await error(r.resolve('optim', 'fast'))).code).toBe('MODNAS_E_REGISTRY_KIND');
  });

  it('refuses an engine without a setup or a positive priority', () => {
    const bad = { ...defineEngine({ name: 'bad', priority: 1, setup: async () => undefined }), priority: 0 };
    expect(() => definePlugin({ meta: { name: '@test/bad', version: '1.0.0' }, components: [bad] })).toThrow(/engine "bad" needs .* a priority above 0/);
    const noSetup = { ...defineEngine({ name: 'bad', priority: 1, setup: async () => undefined }), setup: undefined as never };
    expect(() => definePlugin({ meta: { name: '@test/bad', version: '1.0.0' }, components: [noSetup] })).toThrow(/defineEngine/);
  });
});
