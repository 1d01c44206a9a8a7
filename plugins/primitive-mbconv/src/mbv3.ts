import type { SlotSpec } from '@modnas/core';
import { Slot, defineComponent, z } from '@modnas/core';
import { MobileInvertedConvV3 } from '@modnas/nn';
import { EXPANSION_RATIOS, KERNEL_SIZES } from './mbconv.js';

/** The suffixes of the M3B primitives: '' (both flags from the config), S (squeeze-excite), H (hard swish), SH (both). */
export const M3B_VARIANTS = ['', 'S', 'H', 'SH'] as const;

const flag = (what: string) =>
  z
    .union([z.boolean(), z.literal(0), z.literal(1)])
    .default(0)
    .describe(what);

/** Config of the plain M3B{k}E{e}: the original's use_se / use_hs (0/1 or a boolean). */
export const m3bSchema = z.strictObject({
  use_se: flag('Squeeze-excite after the depthwise conv (1/true) or not (0/false); MobileNetV3SearchConstructor sets it from the block with keep_config'),
  use_hs: flag('Hard swish (1/true) instead of ReLU (0/false) after the expand and depthwise convs; set from the block with keep_config'),
});

/** The suffixed forms fix both flags in their name and take no config. */
export const m3bFixedSchema = z.strictObject({});


function describeM3B(k: number, e: number, v: string): string {
  const act = v.includes('H') ? 'hard swish' : v === '' ? 'ReLU or hard swish (use_hs)' : 'ReLU';
  const se = v.includes('S') ? ', squeeze-excite' : v === '' ? ', squeeze-excite if use_se' : '';
  return `Inverted residual conv (MobileNetV3): ${e === 1 ? 'no expansion' : `1x1 expand x${e}`}, ${k}x${k} depthwise${se}, 1x1 project, BN + ${act}`;
}

function m3bComponent(k: number, e: number, v: (typeof M3B_VARIANTS)[number]) {
  const id = `M3B${k}E${e}${v}`;
  const build = (spec: SlotSpec | undefined, useSe: boolean, useHs: boolean): MobileInvertedConvV3 => {
    const s = Slot.checkSpec(id, spec);
    // As the original, the Slot's own args (the block's chn, kernel size, flags) are not read here:
    // the expansion is chnIn x e; the search constructor passes the block's flags as config.
    return new MobileInvertedConvV3(s.chnIn, s.chnOut, s.stride, { chn: s.chnIn * e, kernelSize: k, useSe, useHs, id: plainOrFixed(k, e, v, useSe, useHs) });
  };
  if (v === '') {
    return defineComponent({
      kind: 'primitive',
      id,
      description: describeM3B(k, e, v),
      schema: m3bSchema,
      create: (config, _ctx, spec) => build(spec, Boolean(config.use_se), Boolean(config.use_hs)),
    });
  }
  return defineComponent({
    kind: 'primitive',
    id,
    description: describeM3B(k, e, v),
    schema: m3bFixedSchema,
    create: (_config, _ctx, spec) => build(spec, v.includes('S'), v.includes('H')),
  });
}

/**
 * The id the built conv reports to exporters: its own id, except that a plain M3B{k}E{e} built with
 * flags names the suffixed form that builds the same conv without config (so a description read
 * back without keep_config still gives the same network).
 */
function plainOrFixed(k: number, e: number, v: string, useSe: boolean, useHs: boolean): string {
  return v === '' ? `M3B${k}E${e}${useSe ? 'S' : ''}${useHs ? 'H' : ''}` : `M3B${k}E${e}${v}`;
}

/** The 64 M3B{k}E{e}[S|H|SH]: kernel k in {3,5,7,9}, expansion e in {1,3,6,9}, by variant. */
export const m3bComponents = KERNEL_SIZES.flatMap((k) => EXPANSION_RATIOS.flatMap((e) => M3B_VARIANTS.map((v) => m3bComponent(k, e, v))));
