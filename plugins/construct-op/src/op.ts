import type { StateTransformer } from '@modnas/core';
import { ModnasError, Slot, defineComponent, z } from '@modnas/core';

export const defaultOpConstructorSchema = z.strictObject({
  op: z
    .union([z.string().min(1), z.looseObject({ type: z.string().min(1) })])
    .nullable()
    .default(null)
    .describe('The op that fills every Slot: a primitive id (e.g. MB3E6) or { type: id, ...options }; required'),
});

export const defaultOpConstructor = defineComponent({
  kind: 'construct',
  id: 'DefaultOpConstructor',
  description: 'Fill every empty Slot with the same op (a fixed network, e.g. all MB3E6)',
  schema: defaultOpConstructorSchema,
  refs: (config) => (config.op === null ? [] : [{ kind: 'primitive', spec: config.op, path: 'op' }]),
  create(config): StateTransformer {
    return {
      async apply(model, ctx) {
        if (config.op === null) {
          throw new ModnasError('MODNAS_E_CONFIG_INVALID', 'DefaultOpConstructor needs the op to put in every Slot', {
            fix: 'add op, e.g. { type: DefaultOpConstructor, op: MB3E6 }',
            where: `${ctx.where}.op`,
          });
        }
        const slots = Slot.find(model, { nested: true }).filter(([, s]) => !s.filled);
        for (const [, slot] of slots) {
          slot.fill(await ctx.build('primitive', config.op, { chnIn: slot.chnIn, chnOut: slot.chnOut, stride: slot.stride, args: slot.args }, `${ctx.where}.op`));
        }
        return model;
      },
    };
  },
});
