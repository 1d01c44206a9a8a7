import type { ComponentSpec, Slot } from '@modnas/core';
import type { PrimitiveSpec } from '@modnas/kit-mixed-op';
import { looseName } from '@modnas/core';
import { MobileInvertedConvV3 } from '@modnas/nn';
import { blockSpaceConstructors, primitiveId } from '@modnas/kit-mixed-op';

/** The default candidates: the M3B counterparts of the MobileNetV2 space's six. */
export const MBV3_DEFAULT_PRIMITIVES: readonly string[] = ['M3B3E3', 'M3B3E6', 'M3B5E3', 'M3B5E6', 'M3B7E3', 'M3B7E6'];

const flag = (v: unknown): boolean => v === true || (typeof v === 'number' && v !== 0);

/**
 * The block a MobileNetV3 Slot stands for: MobileInvertedConvV3 with the Slot's chn, kernel_size,
 * use_se and use_hs (as the original's mbv3_predefined_converter).
 */
export function predefinedBlock(slot: Slot): MobileInvertedConvV3 {
  const a = slot.args;
  const chn = typeof a.chn === 'number' ? a.chn : slot.chnIn;
  const k = typeof a.kernel_size === 'number' ? a.kernel_size : 3;
  return new MobileInvertedConvV3(slot.chnIn, slot.chnOut, slot.stride, { chn, kernelSize: k, useSe: flag(a.use_se), useHs: flag(a.use_hs) });
}

/** The plain M3B{k}E{e} ids (the ones with use_se / use_hs config), compared as the registry does. */
const PLAIN_M3B = new Set([3, 5, 7, 9].flatMap((k) => [1, 3, 6, 9].map((e) => looseName(`M3B${k}E${e}`))));

/**
 * keep_config: a plain M3B{k}E{e} candidate gets the block's use_se / use_hs as config (the original
 * passes them to every candidate, and its other candidates then fail to build; here they are left as
 * they are). The flags go where the spec keeps its config (`args`, else beside `type`).
 */
export function withBlockConfig(p: PrimitiveSpec, slot: Slot): PrimitiveSpec {
  if (!PLAIN_M3B.has(looseName(primitiveId(p)))) return p;
  const flags = { use_se: flag(slot.args.use_se) ? 1 : 0, use_hs: flag(slot.args.use_hs) ? 1 : 0 };
  if (typeof p === 'string') return { type: p, ...flags };
  const args = (p as ComponentSpec & { args?: unknown }).args;
  if (args !== null && typeof args === 'object' && !Array.isArray(args)) return { ...p, args: { ...(args as Record<string, unknown>), ...flags } };
  return { ...p, ...flags };
}

const constructors = blockSpaceConstructors({
  net: 'MobileNetV3',
  block: predefinedBlock,
  primitives: MBV3_DEFAULT_PRIMITIVES,
  describe: {
    predefined: "Fill every empty Slot with its MobileNetV3 block (the block's kernel, expansion, SE and activation): the plain MobileNetV3",
    search: "The MobileNetV3 search space: first block fixed, every other block a mixed op over the primitives (with the block's SE and activation), plus NIL where the block may be skipped",
    archDesc: "Build the searched MobileNetV3 from an arch_desc: the first block fixed, every other Slot from its entry (with the block's SE and activation)",
  },
  blockConfig: {
    apply: withBlockConfig,
    search: "Give plain M3B{k}E{e} candidates the block's squeeze-excite and activation (use_se, use_hs)",
    archDesc: "Give plain M3B{k}E{e} entries the block's squeeze-excite and activation (use_se, use_hs), as the search did",
  },
});

export const mobileNetV3PredefinedConstructor = constructors.predefined;
export const mobileNetV3SearchConstructor = constructors.search;
export const mobileNetV3ArchDescConstructor = constructors.archDesc;
