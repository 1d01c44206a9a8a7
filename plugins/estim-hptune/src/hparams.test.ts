import { describe, expect, it } from 'vitest';
import { ArchSpace, CategoricalParam, NumericParam, isModnasError } from '@modnas/core';
import { makeBuildContext } from '@modnas/testkit';
import { defaultHParamSpaceConstructor } from './hparams.js';

async function construct(params: unknown): Promise<ArchSpace> {
  const space = new ArchSpace();
  const t = await defaultHParamSpaceConstructor.create(defaultHParamSpaceConstructor.schema.parse({ params }), makeBuildContext({ space }), undefined);
  const model = { tag: 'unchanged' };
  expect(await t.apply(model as never, makeBuildContext({ space, where: 'construct.hparams' }))).toBe(model);
  return space;
}

describe('DefaultHParamSpaceConstructor', () => {
  it('a mapping: [[low, high]] is a numeric param, a list a categorical one, named by their keys, in order', async () => {
    const space = await construct({ 'trainer.lr': [0.01, 0.1, 0.5], 'trainer.momentum': [[0, 0.9]], 'trainer.nesterov': ['yes', 'no'] });
    expect(space.names()).toEqual(['trainer.lr', 'trainer.momentum', 'trainer.nesterov']);
    const lr = space.get('trainer.lr');
    expect(lr).toBeInstanceOf(CategoricalParam);
    expect((lr as CategoricalParam).choices).toEqual([0.01, 0.1, 0.5]);
    const m = space.get('trainer.momentum');
    expect(m).toBeInstanceOf(NumericParam);
    expect([(m as NumericParam).low, (m as NumericParam).high]).toEqual([0, 0.9]);
    expect((space.get('trainer.nesterov') as CategoricalParam).choices).toEqual(['yes', 'no']);
    // the discrete space counts the categorical params only: 3 x 2
    expect(space.size()).toBe(6n);
  });

  it('a list: unnamed params get the names the space assigns', async () => {
    const space = await construct([[[1, 4]], [8, 16, 32], [[-1, 1]]]);
    expect(space.names()).toEqual(['numeric_0', 'categorical_0', 'numeric_1']);
    expect((space.get('numeric_1') as NumericParam).low).toBe(-1);
    expect((space.get('categorical_0') as CategoricalParam).choices).toEqual([8, 16, 32]);
  });

  it('refuses a range with high < low (coded, naming the key), an empty choice list and other shapes', async () => {
    const err = await construct({ 'trainer.lr': [[0.5, 0.1]] }).catch((e: unknown) => e);
    expect(isModnasError(err) && err.code).toBe('MODNAS_E_PARAM_RANGE');
    expect((err as Error).message).toContain('trainer.lr');
    expect(defaultHParamSpaceConstructor.schema.safeParse({ params: { a: [] } }).success).toBe(false);
    expect(defaultHParamSpaceConstructor.schema.safeParse({ params: { a: [[1, 2, 3]] } }).success).toBe(false);
    expect(defaultHParamSpaceConstructor.schema.safeParse({ params: { a: 0.1 } }).success).toBe(false);
  });
});
