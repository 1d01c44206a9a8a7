import { defineComponent, z } from '@modnas/core';
import { ShuffleUnit, checkUnitSpec } from './shuffle-unit.js';

/** Kernel sizes of the registered SHUk / SHXk primitives (as the original). */
export const SHUFFLE_KERNEL_SIZES = [3, 5, 7, 9] as const;

export const shuffleUnitSchema = z.strictObject({
  chn_mid: z.number().int().positive().nullable().default(null).describe("Channels inside the main branch; null: the Slot's chn_mid arg, else chnOut // 2"),
});

function unitComponent(k: number, xception: boolean) {
  const id = `${xception ? 'SHX' : 'SHU'}${k}`;
  return defineComponent({
    kind: 'primitive',
    id,
    description: xception
      ? `ShuffleNetV2 Xception unit (SPOS): channel split, three ${k}x${k} depthwise + 1x1 pairs, channel shuffle`
      : `ShuffleNetV2 unit: channel split, 1x1, ${k}x${k} depthwise, 1x1, channel shuffle`,
    schema: shuffleUnitSchema,
    create(config, _ctx, spec) {
      const s = checkUnitSpec(id, spec);
      const fromSlot = s.args?.chn_mid;
      const chnMid = config.chn_mid ?? (typeof fromSlot === 'number' && Number.isInteger(fromSlot) && fromSlot > 0 ? fromSlot : undefined);
      return new ShuffleUnit(s.chnIn, s.chnOut, s.stride, { kernelSize: k, chnMid, xception, id });
    },
  });
}

/** SHU3 ... SHU9, then SHX3 ... SHX9. */
export const shuffleUnitComponents = [...SHUFFLE_KERNEL_SIZES.map((k) => unitComponent(k, false)), ...SHUFFLE_KERNEL_SIZES.map((k) => unitComponent(k, true))];
