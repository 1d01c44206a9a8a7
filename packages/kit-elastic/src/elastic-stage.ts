import type { CategoricalParam, tf } from '@modnas/core';
import { Module, ModnasError, Slot } from '@modnas/core';
import { isElasticBlock } from './elastic-mbconv.js';

export const ELASTIC_STAGE: unique symbol = Symbol.for('@modnas/construct-elastic:ElasticStage');

/**
 * A stage of blocks run in order whose depth changes at run time: depth d runs the first d blocks
 * and skips the trailing ones (each trailing block keeps stride 1 and channels, so skipping it is
 * the identity, as its residual would be with a zero branch). Takes over the children of the stage
 * it replaces under the same names, so weight paths do not change.
 */
export class ElasticStage extends Module {
  readonly [ELASTIC_STAGE] = true;
  readonly maxDepth: number;
  private d: number;
  /** The arch param bound by the sequential constructor (search spaces). */
  bound?: CategoricalParam;

  constructor(stage: Module) {
    super();
    for (const [name, child] of stage.children()) this.addModule(name, child);
    this.maxDepth = this.children().length;
    this.d = this.maxDepth;
  }

  get depth(): number {
    return this.d;
  }

  /** Blocks to run (null: all). Trailing blocks left out are marked so exporters write NIL for them. */
  setDepth(depth: number | null): void {
    const d = depth ?? this.maxDepth;
    if (!Number.isInteger(d) || d < 1 || d > this.maxDepth) {
      throw new ModnasError('MODNAS_E_ELASTIC_DEPTH', `depth ${String(depth)} is outside [1, ${this.maxDepth}] for this stage`, {
        fix: `use depths between 1 and ${this.maxDepth} in repeat_range / sequential`,
      });
    }
    this.d = d;
    this.children().forEach(([, block], i) => {
      for (const [, slot] of Slot.find(block)) if (isElasticBlock(slot.impl)) slot.impl.skipped = i >= d;
    });
  }

  /** Is block i run at the current depth? */
  active(i: number): boolean {
    return i < this.d;
  }

  syncFromParams(): void {
    this.setDepth(this.bound ? Number(this.bound.value) : null);
  }

  override forward(x: tf.Tensor): tf.Tensor {
    let y = x;
    const kids = this.children();
    for (let i = 0; i < this.d; i++) y = kids[i][1].call(y);
    return y;
  }

  override describe(): string {
    return `depth ${this.d}/${this.maxDepth}`;
  }
}

export function isElasticStage(m: unknown): m is ElasticStage {
  return typeof m === 'object' && m !== null && (m as Record<symbol, unknown>)[ELASTIC_STAGE] === true;
}
