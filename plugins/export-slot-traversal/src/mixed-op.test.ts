import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Module } from '@modnas/core';
import { ArchSpace, Sequential, TensorParam, tf } from '@modnas/core';
import { TensorMixedOp } from '@modnas/kit-mixed-op';
import { Identity, ReLU } from '@modnas/nn';
import { makeBuildContext } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import { defaultMixedOpExporter } from './mixed-op.js';

/** A DARTS-style op: Σ softmax(α)_i · candidate_i. */
class Weighted extends TensorMixedOp {
  forward(x: tf.Tensor): tf.Tensor {
    return this.weightedSum(this.candidates().map((c) => c.call(x)), tf.softmax(this.alpha.variable));
  }
}

function net(space: ArchSpace, logits: number[][]): Module {
  const ops = logits.map((l, i) => {
    const alpha = space.add(new TensorParam({ shape: [3], init: l }), `a${i}`);
    const cands = ['IDT', 'ReLU', 'MB3E3'].map((name) => ({ name, spec: name, module: name === 'ReLU' ? new ReLU() : new Identity() }));
    return new Weighted(cands, alpha);
  });
  // the second op nested inside a container, to be found in pre-order
  return new Sequential([ops[0], new Sequential([ops[1]]), ops[2]]);
}

const exporter = async (config: Record<string, unknown>, outputDir?: string) => defaultMixedOpExporter.create(defaultMixedOpExporter.schema.parse(config), makeBuildContext({ outputDir }), undefined);

describe('DefaultMixedOpExporter', () => {
  it("lists each mixed op's chosen candidate (argmax α) in traversal order, or its top k", async () => {
    const space = new ArchSpace();
    const m = net(space, [
      [0.1, 2, -1],
      [3, 0, 1],
      [0, 0.5, 0.7],
    ]);
    expect((await exporter({})).export(m, space)).toEqual(['ReLU', 'IDT', 'MB3E3']);
    expect((await exporter({ fn_args: { k: 2 } })).export(m, space)).toEqual([
      ['ReLU', 'IDT'],
      ['IDT', 'MB3E3'],
      ['MB3E3', 'ReLU'],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'modnas-mixed-op-'));
    (await exporter({ path: 'a.json' }, dir)).export(m, space);
    expect(JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8'))).toEqual(['ReLU', 'IDT', 'MB3E3']);
    m.dispose();
    space.dispose();
  });
});
