import type { SlotSpec } from '@modnas/core';
import { ModnasError } from '@modnas/core';

export function checkSpec(id: string, spec: SlotSpec | undefined): SlotSpec {
  if (!spec || !Number.isInteger(spec.chnIn) || !Number.isInteger(spec.chnOut) || !Number.isInteger(spec.stride) || spec.chnIn < 1 || spec.chnOut < 1 || spec.stride < 1) {
    throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `${id} needs a Slot spec { chnIn, chnOut, stride } of positive integers, got ${JSON.stringify(spec)}`, {
      fix: 'build primitives through a constructor (which passes the Slot), or pass { chnIn, chnOut, stride } as the input',
    });
  }
  return spec;
}
