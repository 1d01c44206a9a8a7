import { BinaryGateOp, defineBinGate, drawWithoutReplacement } from './bin-gate.js';

const uniform = (n: number): number[] => new Array<number>(n).fill(1);

/**
 * BinGate whose paths (and, in `sampleOps`, active candidates) are drawn uniformly instead of
 * from softmax(α). α still gets the binary-gate gradient with p = softmax(α) over the active set.
 */
export class BinaryGateUniformOp extends BinaryGateOp {
  protected override drawActive(k: number): number[] {
    return drawWithoutReplacement(this.rng, uniform(this.numCandidates), k);
  }

  protected override drawPaths(k: number): number[] {
    const active = this.activeOps;
    return drawWithoutReplacement(this.rng, uniform(active.length), k).map((pos) => active[pos]);
  }
}

export const binGateUniform = defineBinGate('BinGateUniform', 'BinaryGateUniformMixedOp', 'BinGate variant whose candidates are sampled from the uniform distribution in the forward pass', BinaryGateUniformOp);
