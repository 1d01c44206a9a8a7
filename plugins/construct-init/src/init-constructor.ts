import type { Module } from '@modnas/core';
import { ModnasError, defineComponent, setTensorSeed, z } from '@modnas/core';

/**
 * The original's first constructors of a chain (DefaultInitConstructor, and TorchInitConstructor
 * of its torch backend): they reset the architecture space and seed the random streams. Here each
 * build has its own space already; what they do is seed the weight-initialisation stream, so the
 * constructors after them draw the same weights for the same seed.
 */
const seed = z.number().int().min(0).nullable().default(null).describe('Seeds the weight-initialisation stream of the constructors that follow (null or 0: the run\'s own seed, as the original skips a falsy seed)');

export const defaultInitConstructorSchema = z.strictObject({ seed });

export const torchInitConstructorSchema = z.strictObject({
  seed,
  device: z.unknown().optional().describe("The original's device ids: the engine here is chosen by `backend` (logged, no effect)"),
  ops_conf: z.record(z.string(), z.unknown()).nullable().default(null).describe("The original's global ops config (ops_order, affine ...): here each primitive has its own fixed order, so only an empty one is accepted"),
});

class SeedConstructor {
  constructor(readonly seed: number | null) {}

  apply(model: Module): Module {
    if (this.seed) setTensorSeed(this.seed);
    return model;
  }
}

export const defaultInitConstructor = defineComponent({
  kind: 'construct',
  id: 'DefaultInitConstructor',
  description: 'Seeds the weight-initialisation stream of the constructors that follow (the original: resets the space, seeds numpy)',
  schema: defaultInitConstructorSchema,
  create: (c) => new SeedConstructor(c.seed),
});

export const torchInitConstructor = defineComponent({
  kind: 'construct',
  id: 'TorchInitConstructor',
  description: "DefaultInitConstructor with the original's torch arguments (device: see `backend`; ops_conf: refused unless empty)",
  schema: torchInitConstructorSchema,
  create(c, ctx) {
    if (c.ops_conf && Object.keys(c.ops_conf).length > 0) {
      throw new ModnasError('MODNAS_E_CONSTRUCT_INIT', `${ctx.where}: TorchInitConstructor.ops_conf (${Object.keys(c.ops_conf).join(', ')}) sets the original's global op order and options, which this tool does not have`, {
        fix: 'remove ops_conf: each primitive here has the original\'s default order (e.g. BN-ReLU-conv for the DARTS ops, conv-BN-ReLU6 for MBConv)',
        where: `${ctx.where}.ops_conf`,
      });
    }
    if (c.device !== undefined) ctx.logger.info(`${ctx.where}: TorchInitConstructor.device (${JSON.stringify(c.device)}): the engine is chosen by \`backend\` here`);
    return new SeedConstructor(c.seed);
  },
});
