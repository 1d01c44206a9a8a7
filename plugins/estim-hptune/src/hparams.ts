import type { ArchSpace, Module, StateTransformer } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';

/** A hyperparameter as the original writes it: `[[low, high]]` a number in a range, `[a, b, ...]` a choice. */
const hparamSchema = z
  .union([z.tuple([z.tuple([z.number(), z.number()])]), z.array(z.union([z.string(), z.number()])).min(1)])
  .describe('[[low, high]]: a number in [low, high] (numeric); [a, b, ...]: one of these values (categorical)');

export const hparamSpaceSchema = z.strictObject({
  params: z
    .union([z.record(z.string(), hparamSchema), z.array(hparamSchema)])
    .describe("The hyperparameters: by name (a dotted config key of the trial, e.g. trainer.lr), or a list (names assigned: numeric_0, categorical_0, ...)"),
});
export type HParamSpaceConfig = z.output<typeof hparamSpaceSchema>;

type HParam = z.output<typeof hparamSchema>;

function isRange(v: HParam): v is [[number, number]] {
  return v.length === 1 && Array.isArray(v[0]);
}

/** Declare the hyperparameters in the space, in the order given. */
export function declareHParams(space: ArchSpace, params: HParamSpaceConfig['params'], where = 'construct'): void {
  const entries: Array<[string | undefined, HParam]> = Array.isArray(params) ? params.map((p) => [undefined, p]) : Object.entries(params);
  entries.forEach(([name, v], i) => {
    const at = `${where}.params.${name ?? i}`;
    if (isRange(v)) {
      const [low, high] = v[0];
      if (!(high >= low)) {
        throw new ModnasError('MODNAS_E_PARAM_RANGE', `hyperparameter ${name ?? i}: high (${high}) < low (${low})`, { fix: 'write the range as [[low, high]] with low <= high', where: at });
      }
      space.numeric({ name, low, high });
    } else {
      space.categorical({ name, choices: v });
    }
  });
}

/**
 * The original's DefaultHParamSpaceConstructor: declares hyperparameters as params of the search
 * space, for HPTuneEstim to tune. The network (none in a tuning experiment) is left as it is.
 */
export class HParamSpaceConstructor implements StateTransformer {
  constructor(readonly config: HParamSpaceConfig) {}

  apply(model: Module, ctx: { space: ArchSpace; where: string }): Module {
    declareHParams(ctx.space, this.config.params, ctx.where);
    return model;
  }
}

export const defaultHParamSpaceConstructor = defineComponent({
  kind: 'construct',
  id: 'DefaultHParamSpaceConstructor',
  description: 'Declares hyperparameters as search-space params: [[low, high]] numeric, [a, b, ...] categorical',
  schema: hparamSpaceSchema,
  create: (c) => new HParamSpaceConstructor(c),
});
