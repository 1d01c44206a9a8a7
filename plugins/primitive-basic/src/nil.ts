import type { SlotSpec } from '@modnas/core';
import { Slot, defineComponent, z } from '@modnas/core';
import { Zero } from '@modnas/nn';

/** Zeros of the Slot's output shape: chnOut channels, spatial size divided by the stride (rounded up). */
export class Nil extends Zero {
  toArchDesc(): string {
    return 'NIL';
  }

  override describe(): string {
    return `NIL: ${this.chnOut} channels, s=${this.stride}`;
  }
}

export const nilSchema = z.strictObject({});

export const nil = defineComponent({
  kind: 'primitive',
  id: 'NIL',
  description: 'Null op: zeros of the output shape (strided when the Slot is); a block whose Slot is NIL is skipped',
  schema: nilSchema,
  create(_config, _ctx, spec: SlotSpec) {
    const s = Slot.checkSpec('NIL', spec);
    return new Nil(s.chnOut, s.stride);
  },
});
