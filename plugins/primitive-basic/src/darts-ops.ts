import type { AnyComponentDef, SlotSpec } from '@modnas/core';
import { ModnasError, Module, Sequential, Slot, defineComponent, tf, z } from '@modnas/core';
import { BatchNorm2d, Conv2d, ReLU } from '@modnas/nn';
import { FactorizedReduce } from './idt.js';

/**
 * The original ModularNAS's basic ops (its arch_space/torch/ops.py, the DARTS primitives in every
 * kernel size it registers): each is BN -> ReLU -> weight, its default ops order. `k` is the
 * kernel size; padding keeps the resolution (stride 1) or divides it by the stride.
 */
export const KERNEL_SIZES = [1, 3, 5, 7, 9, 11, 13] as const;

/** A primitive's name in arch descs (what the exporter writes and the arch_desc constructor reads back). */
abstract class NamedOp extends Sequential {
  constructor(
    readonly opName: string,
    modules: Module[],
  ) {
    super(modules);
  }

  toArchDesc(): string {
    return this.opName;
  }
}

/** BN -> pool (the original's PoolBN): kernel k, padding k//2; average pooling over the window's real pixels only (count_include_pad=False). */
export class PoolBN extends NamedOp {
  constructor(opName: string, type: 'avg' | 'max', chn: number, kernelSize: number, stride: number) {
    super(opName, [new BatchNorm2d(chn), new Pool(type, kernelSize, stride, Math.floor(kernelSize / 2))]);
  }
}

/** Max or average pooling with symmetric zero padding that is never counted (tfjs pools over real pixels only). */
export class Pool extends Module {
  constructor(
    readonly type: 'avg' | 'max',
    readonly kernelSize: number,
    readonly stride: number,
    readonly padding: number,
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    const x4 = x as tf.Tensor4D;
    return this.type === 'avg' ? tf.avgPool(x4, this.kernelSize, this.stride, this.padding) : tf.maxPool(x4, this.kernelSize, this.stride, this.padding);
  }

  override describe(): string {
    return `${this.type} pool k=${this.kernelSize}, s=${this.stride}`;
  }
}

/** BN -> ReLU -> conv (the original's StdConv). */
export class StdConv extends NamedOp {
  constructor(opName: string, chnIn: number, chnOut: number, kernelSize: number, stride: number) {
    super(opName, [new BatchNorm2d(chnIn), new ReLU(), new Conv2d(chnIn, chnOut, { kernelSize, stride })]);
  }
}

/** BN -> ReLU -> depthwise conv (dilated) -> pointwise conv (the original's DilConv; SepSingle at dilation 1). */
export class DilConv extends NamedOp {
  constructor(opName: string, chnIn: number, chnOut: number, kernelSize: number, stride: number, dilation: number) {
    super(opName, [new BatchNorm2d(chnIn), new ReLU(), new Conv2d(chnIn, chnIn, { kernelSize, stride, dilation, groups: chnIn }), new Conv2d(chnIn, chnOut, { kernelSize: 1 })]);
  }
}

/** Two DilConvs at dilation 1, the first with the stride (the original's SepConv, DARTS' sep_conv). */
export class SepConv extends NamedOp {
  constructor(opName: string, chnIn: number, chnOut: number, kernelSize: number, stride: number) {
    super(opName, [new DilConv(opName, chnIn, chnIn, kernelSize, stride, 1), new DilConv(opName, chnIn, chnOut, kernelSize, 1, 1)]);
  }
}

/** FactorizedReduce always, whatever the Slot (the original's FTR; IDT is the identity where it can be). */
class FactorizedReduceOp extends FactorizedReduce {
  override toArchDesc(): string {
    return 'FTR';
  }
}

const emptySchema = z.strictObject({});

function samePools(id: string, s: SlotSpec): void {
  if (s.chnIn !== s.chnOut) {
    throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `${id} (pooling) keeps channels, but its Slot has chnIn ${s.chnIn} and chnOut ${s.chnOut}`, {
      fix: 'use pooling in Slots that keep channels (as the original, which refuses them too), or a conv primitive (NC3, SC3) there',
    });
  }
}

function primitive(id: string, description: string, make: (s: SlotSpec) => Module): AnyComponentDef {
  return defineComponent({
    kind: 'primitive',
    id,
    description,
    schema: emptySchema,
    create(_config, _ctx, spec: SlotSpec) {
      return make(Slot.checkSpec(id, spec));
    },
  }) as AnyComponentDef;
}

function family(k: number): AnyComponentDef[] {
  const d2 = 2 * k - 1;
  const d3 = 3 * k - 2;
  return [
    primitive(`AP${k}`, `BN, then ${k}x${k} average pooling (padding ${Math.floor(k / 2)}, real pixels only)`, (s) => {
      samePools(`AP${k}`, s);
      return new PoolBN(`AP${k}`, 'avg', s.chnIn, k, s.stride);
    }),
    primitive(`MP${k}`, `BN, then ${k}x${k} max pooling`, (s) => {
      samePools(`MP${k}`, s);
      return new PoolBN(`MP${k}`, 'max', s.chnIn, k, s.stride);
    }),
    primitive(`SC${k}`, `Separable conv ${k}x${k}, twice (BN-ReLU-depthwise-pointwise, the first with the stride): DARTS' sep_conv`, (s) => new SepConv(`SC${k}`, s.chnIn, s.chnOut, k, s.stride)),
    primitive(`SS${k}`, `Separable conv ${k}x${k}, once (BN-ReLU-depthwise-pointwise)`, (s) => new DilConv(`SS${k}`, s.chnIn, s.chnOut, k, s.stride, 1)),
    primitive(`NC${k}`, `BN-ReLU-conv ${k}x${k}`, (s) => new StdConv(`NC${k}`, s.chnIn, s.chnOut, k, s.stride)),
    primitive(`DC${k}`, `Dilated separable conv ${k}x${k}, dilation 2 (${d2}x${d2} field): DARTS' dil_conv`, (s) => new DilConv(`DC${k}`, s.chnIn, s.chnOut, k, s.stride, 2)),
    primitive(`DD${k}`, `Dilated separable conv ${k}x${k}, dilation 3 (${d3}x${d3} field)`, (s) => new DilConv(`DD${k}`, s.chnIn, s.chnOut, k, s.stride, 3)),
  ];
}

/** AP/MP/SC/SS/NC/DC/DD in every kernel size, AVG and MAX (3x3 pools) and FTR. */
export const dartsOps: AnyComponentDef[] = [
  ...KERNEL_SIZES.flatMap(family),
  primitive('AVG', 'BN, then 3x3 average pooling: DARTS\' avg_pool_3x3', (s) => {
    samePools('AVG', s);
    return new PoolBN('AVG', 'avg', s.chnIn, 3, s.stride);
  }),
  primitive('MAX', 'BN, then 3x3 max pooling: DARTS\' max_pool_3x3', (s) => {
    samePools('MAX', s);
    return new PoolBN('MAX', 'max', s.chnIn, 3, s.stride);
  }),
  primitive('FTR', 'Factorized reduce (two shifted strided 1x1 convs + BN), whatever the Slot', (s) => new FactorizedReduceOp(s.chnIn, s.chnOut, s.stride)),
];
