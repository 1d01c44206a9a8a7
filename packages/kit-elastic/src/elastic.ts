import type { Module } from '@modnas/core';
import { ModnasError, Slot } from '@modnas/core';
import { archDescOf } from '@modnas/kit-mixed-op';
import { ElasticMBConv, isElasticBlock } from './elastic-mbconv.js';
import type { ElasticStage } from './elastic-stage.js';
import { isElasticStage } from './elastic-stage.js';

/** Every elastic block of a network, in traversal order. */
export function elasticBlocks(model: Module): ElasticMBConv[] {
  return [...model.modules()].map(([, m]) => m).filter(isElasticBlock);
}

/** Every depth-elastic stage of a network, in traversal order. */
export function elasticStages(model: Module): ElasticStage[] {
  return [...model.modules()].map(([, m]) => m).filter(isElasticStage);
}

/** The elastic block in a Slot, made from the module that fills it when needed. */
export function ensureElasticBlock(slot: Slot, where?: string): ElasticMBConv {
  const impl = slot.impl;
  if (!impl) {
    throw new ModnasError('MODNAS_E_ELASTIC_EMPTY', `an elastic constructor found an empty Slot (${slot.chnIn}->${slot.chnOut}, stride ${slot.stride})`, {
      fix: 'fill the Slots first: put MobileNetV2PredefinedConstructor (or DefaultOpConstructor with an MBxEy op) before it in construct',
      where,
    });
  }
  if (isElasticBlock(impl)) return impl;
  const block = new ElasticMBConv(impl, slot);
  slot.fill(block);
  return block;
}

/** Every elastic dimension back to its largest size (the full supernet). */
export function resetElastic(model: Module): void {
  for (const b of elasticBlocks(model)) {
    b.setWidth(null);
    b.setKernel(null);
  }
  for (const s of elasticStages(model)) s.setDepth(null);
}

/** Every elastic dimension to the value of its bound arch param (full size where none is bound). */
export function syncElastic(model: Module): void {
  for (const b of elasticBlocks(model)) b.syncFromParams();
  for (const s of elasticStages(model)) s.syncFromParams();
}

/**
 * The architecture description of the current subnet, one entry per Slot in traversal order: null
 * for the fixed first block (fixFirst), NIL for blocks that depth leaves out, MB<k>E<e> for elastic
 * blocks, and the filling module's own description otherwise. MobileNetV2ArchDescConstructor
 * builds the fixed network from it.
 */
export function elasticArchDesc(model: Module, { fixFirst = true }: { fixFirst?: boolean } = {}): unknown[] {
  const skipped = new Set<Slot>();
  for (const st of elasticStages(model)) {
    st.children().forEach(([, block], i) => {
      if (!st.active(i)) for (const [, slot] of Slot.find(block)) skipped.add(slot);
    });
  }
  return Slot.find(model).map(([, slot], i) => {
    if (i === 0 && fixFirst) return null;
    if (skipped.has(slot)) return 'NIL';
    return archDescOf(slot.impl) ?? null;
  });
}
