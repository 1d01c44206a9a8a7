import { COMPONENT_KINDS } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { KINDS, TEMPLATE_KINDS, defaultIds, renderPlugin, validate } from './index.js';

const versions = { '@modnas/core': '^0.1.0', '@modnas/testkit': '^0.1.0', '@tensorflow/tfjs-backend-cpu': '4.22.0', '@types/node': '20.19.43', tsup: '8.5.0', typescript: '5.9.3', vitest: '3.2.7' };

describe('renderPlugin', () => {
  it('knows the kinds of @modnas/core', () => {
    expect([...KINDS].sort()).toEqual([...COMPONENT_KINDS].sort());
  });

  for (const kind of [...TEMPLATE_KINDS, 'exporter']) {
    it(`${kind}: a standalone package with published ranges, its own tsconfig, conformance and behaviour tests`, () => {
      const files = renderPlugin({ kind, name: '@me/modnas-thing', ids: ['ThingOne', 'ThingTwo'], versions });
      const pj = JSON.parse(files['package.json']) as Record<string, Record<string, unknown>>;
      expect(JSON.stringify(pj)).not.toContain('workspace:');
      expect(pj.modnas).toMatchObject({ schemaVersion: 1, kind, provides: ['ThingOne', 'ThingTwo'], aliases: {} });
      expect(Object.keys(pj.modnas.descriptions as object)).toEqual(['ThingOne', 'ThingTwo']);
      expect(pj.peerDependencies).toEqual({ '@modnas/core': '^0.1.0' });
      expect(pj.devDependencies).toMatchObject({ '@modnas/testkit': '^0.1.0', tsup: '8.5.0', vitest: '3.2.7' });
      expect(JSON.parse(files['tsconfig.json'])).not.toHaveProperty('extends');
      expect(Object.keys(files).sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'src/index.test.ts', 'src/index.ts', 'src/thing-one.test.ts', 'src/thing-one.ts', 'src/thing-two.test.ts', 'src/thing-two.ts', 'tsconfig.json', 'vitest.config.ts', 'vitest.setup.ts']);
      expect(files['src/index.test.ts']).toContain('describeConformance(plugin');
      // one skipCreate object for all ids (two keys of the same name would drop the first)
      expect((files['src/index.test.ts'].match(/skipCreate:/g) ?? []).length).toBeLessThanOrEqual(1);
      expect(files['src/thing-two.ts']).toContain(`kind: '${kind}'`);
      expect(files['src/thing-two.ts']).toContain("id: 'ThingTwo'");
      expect(files['src/index.ts']).toContain('components: [thingOne, thingTwo]');
      expect(Object.values(files).join('\n')).not.toMatch(/__(ID|VAR|CLASS|FILE)__/);
    });
  }

  it('writes workspace:^ ranges for @modnas packages inside the monorepo', () => {
    const files = renderPlugin({ kind: 'optim', name: 'x', workspace: true, versions });
    const pj = JSON.parse(files['package.json']) as { devDependencies: Record<string, string> };
    expect(pj.devDependencies['@modnas/core']).toBe('workspace:^');
    expect(pj.devDependencies.vitest).toBe('3.2.7');
    // the monorepo's root config and tsconfig.base.json serve it
    expect(JSON.parse(files['tsconfig.json'])).toEqual({ extends: '../../tsconfig.base.json', include: ['src'] });
    expect(Object.keys(files)).not.toContain('vitest.config.ts');
  });

  it('derives an id from the name and refuses bad input with the reason', () => {
    expect(defaultIds('optim', '@me/modnas-plugin-simulated-annealing')).toEqual(['SimulatedAnnealingOptim']);
    expect(defaultIds('mixed-op', '@modnas/mixed-op-soft-sum')).toEqual(['SoftSum']);
    expect(validate({ kind: 'optimizer', name: 'Bad Name', ids: ['9x'] })).toEqual([
      expect.stringContaining('unknown kind "optimizer"'),
      expect.stringContaining('not a valid npm package name'),
      expect.stringContaining('component id "9x"'),
    ]);
  });
});
