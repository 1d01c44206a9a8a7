import type { StateTransformer } from '@modnas/core';
import { Slot, defineComponent, z } from '@modnas/core';
import { Identity } from '@modnas/nn';
import { DropPathOp, dropProbRange, dropProbSchema, scheduleDropPath, setDropProb, wrapSlot } from './drop-path.js';

export const dropPathConstructorSchema = z.strictObject({ drop_prob: dropProbSchema });

export const dropPathConstructor = defineComponent({
  kind: 'construct',
  id: 'DropPathConstructor',
  description: "Drop path on the op of every filled Slot (a cell network's edges; not on identities), its probability rising over the epochs",
  schema: dropPathConstructorSchema,
  create(config): StateTransformer {
    const [start, max] = dropProbRange(config.drop_prob);
    return {
      apply(model, ctx) {
        for (const [, slot] of Slot.find(model)) wrapSlot(slot, start);
        scheduleDropPath(ctx, () => model, max);
        return model;
      },
    };
  },
});

export const dropPathConverterSchema = z.strictObject({ drop_prob: dropProbSchema });

export const dropPathConverter = defineComponent({
  kind: 'construct',
  id: 'DropPathConverter',
  description: 'Drop path on the output of the module it is given (the identity is left as it is), its probability rising over the epochs',
  schema: dropPathConverterSchema,
  create(config): StateTransformer {
    const [start, max] = dropProbRange(config.drop_prob);
    return {
      apply(model, ctx) {
        if (model instanceof Identity || model instanceof DropPathOp) return model;
        const out = new DropPathOp(model, start);
        scheduleDropPath(ctx, () => out, max);
        return out;
      },
    };
  },
});

export const dropPathTransformerSchema = z.strictObject({
  drop_prob: z.number().min(0).lt(1).default(0).describe('The probability set on every DropPath under the Slots'),
});

export const dropPathTransformer = defineComponent({
  kind: 'construct',
  id: 'DropPathTransformer',
  description: 'Sets the probability of every DropPath in the Slots of a network',
  schema: dropPathTransformerSchema,
  create(config): StateTransformer {
    return {
      apply(model) {
        for (const [, slot] of Slot.find(model)) if (slot.impl) setDropProb(slot.impl, config.drop_prob);
        return model;
      },
    };
  },
});
