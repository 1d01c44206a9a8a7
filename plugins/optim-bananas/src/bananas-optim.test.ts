import type { Assignment, SearchOptimizer } from '@modnas/core';
import { ArchSpace, Rng, tf } from '@modnas/core';
import { componentRng } from '@modnas/kit-optim';
import { NB201_EDGES, NB201_OPS } from '@modnas/bench-nas-bench-201';
import { RandomSearchOptim } from '@modnas/optim-random';
import { bestOf, describeConformance, makeBuildContext, toyObjective, driveSerially } from '@modnas/testkit';
import { describe, expect, it } from 'vitest';
import type { BANANASConfig } from './bananas-optim.js';
import { BANANASOptim, bananasOptim, bananasOptimSchema } from './bananas-optim.js';
import { adjacencyEncoder, fitEnsemble, pathEncoder } from '@modnas/kit-optim';
import type { Encoder } from '@modnas/kit-optim';
import plugin from './index.js';

// Small fits keep the suite fast; the behaviour under test does not depend on the fit's length.
const FAST = { steps: 60, num_init: 5, proposals: 5 };

describeConformance(plugin, {
  packageJson: new URL('../package.json', import.meta.url),
  configs: { BANANASOptim: { num_init: 2, proposals: 2, num_candidates: 4, steps: 5 } },
  step: {
    // through a predictor fit: the tensor count must come back to where it was
    BANANASOptim: (o) => {
      (o as { space: ArchSpace }).space.categorical({ name: 'a', choices: ['x', 'y', 'z', 'w'] });
      (o as { space: ArchSpace }).space.categorical({ name: 'b', choices: ['x', 'y', 'z', 'w'] });
      const opt = o as SearchOptimizer;
      for (let i = 0; i < 4; i++) {
        const [a] = opt.next(1);
        void opt.step({ results: [{ arch: a, score: i, metrics: {} }] });
      }
      expect((o as BANANASOptim).fits).toBeGreaterThan(0);
    },
  },
});

function nb201Space(): ArchSpace {
  const s = new ArchSpace();
  for (const e of NB201_EDGES) s.categorical({ name: e, choices: NB201_OPS });
  return s;
}
const cell = (ops: string[]): Assignment => Object.fromEntries(NB201_EDGES.map((e, i) => [e, ops[i]]));

describe('encodings', () => {
  it('path encoding of the NAS-Bench-201 cell: 4 + 16 + 64 op sequences, one per input-to-output path, none cuts', () => {
    const enc = pathEncoder(nb201Space().discrete(), ['none']) as Encoder;
    expect(typeof enc).toBe('object');
    expect(enc.kind).toBe('path');
    expect(enc.size).toBe(84);
    // all convs 3x3: the paths 0-3, 0-1-3, 0-2-3, 0-1-2-3 give 3 distinct sequences (two of length 2 coincide)
    const conv = enc.encode(cell(new Array(6).fill('nor_conv_3x3')));
    expect(conv.reduce((a, b) => a + b, 0)).toBe(3);
    // every edge none: no path
    expect(enc.encode(cell(new Array(6).fill('none'))).every((x) => x === 0)).toBe(true);
    // only the direct edge 3<-0 carries an op: one feature of length 1
    const direct = enc.encode(cell(['none', 'none', 'none', 'skip_connect', 'none', 'none']));
    expect(direct.reduce((a, b) => a + b, 0)).toBe(1);
    expect(direct.slice(0, 4).reduce((a, b) => a + b, 0)).toBe(1);
    // cells that differ only on an edge no path uses encode the same
    const a = enc.encode(cell(['none', 'nor_conv_1x1', 'avg_pool_3x3', 'nor_conv_3x3', 'none', 'none']));
    const b = enc.encode(cell(['none', 'nor_conv_1x1', 'skip_connect', 'nor_conv_3x3', 'none', 'none']));
    expect(a).toEqual(b);
  });

  it('adjacency encoding: one-hot per param; the path encoding refuses a space that is not a cell of edges', () => {
    const s = new ArchSpace();
    s.categorical({ name: 'depth', choices: [1, 2, 3] });
    s.categorical({ name: 'width', choices: [8, 16] });
    expect(typeof pathEncoder(s.discrete(), ['none'])).toBe('string');
    const enc = adjacencyEncoder(s.discrete());
    expect(enc.size).toBe(5);
    expect(enc.encode({ depth: 2, width: 16 })).toEqual([0, 1, 0, 0, 1]);
  });

  it('encoding: path on such a space is a coded config error; auto falls back to adjacency', () => {
    const { space } = toyObjective();
    const o = new BANANASOptim(space(), new Rng(0), bananasOptimSchema.parse({ encoding: 'path' }));
    expect(() => o.features()).toThrow(expect.objectContaining({ code: 'MODNAS_E_OPTIM_ENCODING' }));
    expect(new BANANASOptim(space(), new Rng(0), bananasOptimSchema.parse({})).features().kind).toBe('adjacency');
    expect(new BANANASOptim(nb201Space(), new Rng(0), bananasOptimSchema.parse({})).features().kind).toBe('path');
  });
});

describe('fitEnsemble', () => {
  it('fits a nonlinear function of binary features: held-out correlation > 0.8, members disagree off the data, no tensor left', () => {
    const rng = new Rng(1);
    const d = 12;
    const w = Array.from({ length: d }, () => rng.normal());
    const f = (x: number[]) => 90 + Math.tanh(x.reduce((a, b, i) => a + b * w[i], 0) / 2) + (x[0] && x[1] ? 0.5 : 0);
    const draw = (n: number) => Array.from({ length: n }, () => Array.from({ length: d }, () => (rng.next() < 0.5 ? 1 : 0)));
    const train = draw(150);
    const test = draw(100);
    const before = tf.memory().numTensors;
    const model = fitEnsemble(train, train.map(f), { size: 5, layers: 2, width: 20, steps: 300, lr: 0.01, weightDecay: 0 }, new Rng(2));
    const p = model.predict(test);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const y = test.map(f);
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
    const mp = mean(p.mean);
    const my = mean(y);
    let c = 0;
    let vp = 0;
    let vy = 0;
    y.forEach((yi, j) => {
      c += (p.mean[j] - mp) * (yi - my);
      vp += (p.mean[j] - mp) ** 2;
      vy += (yi - my) ** 2;
    });
    expect(c / Math.sqrt(vp * vy)).toBeGreaterThan(0.8);
    expect(Math.abs(mp - my)).toBeLessThan(0.3); // predictions come back in the targets' scale
    expect(mean(p.std)).toBeGreaterThan(0);
  });

  it('is a function of the data and the stream', () => {
    const x = [
      [0, 1],
      [1, 0],
      [1, 1],
    ];
    const fit = (seed: number) => {
      const m = fitEnsemble(x, [1, 2, 3], { size: 3, layers: 1, width: 4, steps: 20, lr: 0.01, weightDecay: 0.01 }, new Rng(seed));
      const p = m.predict([[0, 0]]);
      m.dispose();
      return [p.mean[0], p.std[0]];
    };
    expect(fit(0)).toEqual(fit(0));
    expect(fit(1)).not.toEqual(fit(0));
  });

  it('mape puts the fit on the best points: smaller error on the top decile than mae, on the same data and stream', () => {
    const rng = new Rng(5);
    const d = 10;
    const w = Array.from({ length: d }, () => rng.normal());
    // accuracies of a search space: a saturating top and a tail of poor points (55..94)
    const f = (x: number[]) => 94 - 40 / (1 + Math.exp(x.reduce((a, b, i) => a + b * w[i], 0)));
    const xs = Array.from({ length: 120 }, () => Array.from({ length: d }, () => (rng.next() < 0.5 ? 1 : 0)));
    const ys = xs.map(f);
    const top = ys.map((y, i) => [y, i]).sort((a, b) => b[0] - a[0]).slice(0, 12).map(([, i]) => i);
    const err = (loss: 'mae' | 'mape') => {
      const m = fitEnsemble(xs, ys, { size: 3, layers: 1, width: 20, steps: 200, lr: 0.01, weightDecay: 0, loss, mapeMargin: 0.5 }, new Rng(6));
      const p = m.predict(top.map((i) => xs[i]));
      m.dispose();
      return top.reduce((a, i, j) => a + Math.abs(p.mean[j] - ys[i]), 0) / top.length;
    };
    expect(err('mape')).toBeLessThan(0.7 * err('mae'));
  });
});

const cfg = (over: Partial<BANANASConfig> = {}): BANANASConfig => bananasOptimSchema.parse({ ...FAST, ...over });


describe('BANANASOptim', () => {
  it('num_init random draws, then one fit per `proposals` queries; candidates are close to the best; nothing twice', () => {
    const { space, f } = toyObjective();
    const o = new BANANASOptim(space(), componentRng(0, new Rng(3)), cfg({ max_edits: 2, mutate_top: 1 }));
    const seen = new Set<string>();
    const history: Array<{ a: Assignment; s: number }> = [];
    for (let q = 0; q < 25; q++) {
      const [a] = o.next(1);
      const k = JSON.stringify(a);
      expect(seen.has(k)).toBe(false);
      seen.add(k);
      if (q >= 5 && (q - 5) % 5 === 0) {
        // a new round: the proposal is a 1- or 2-edit mutation of the best evaluated so far
        const best = history.reduce((b, h) => (h.s > b.s ? h : b));
        const edits = Object.keys(a).filter((p) => a[p] !== best.a[p]).length;
        expect(edits).toBeGreaterThanOrEqual(1);
        expect(edits).toBeLessThanOrEqual(2);
      }
      expect(o.fits).toBe(q < 5 ? 0 : Math.floor((q - 5) / 5) + 1);
      history.push({ a, s: f(a) });
      void o.step({ results: [{ arch: a, score: f(a), metrics: {} }] });
    }
  });

  it('state() survives JSON; a restored optimizer continues identically (predictor refits included)', () => {
    const { space, f } = toyObjective();
    const s = space();
    const a = new BANANASOptim(s, componentRng(0, new Rng(4)), cfg());
    driveSerially(a, f, 12);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = new BANANASOptim(s, new Rng(99), cfg());
    b.restore(saved);
    expect(driveSerially(b, f, 13)).toEqual(driveSerially(a, f, 13));
    expect(() => new BANANASOptim(s, new Rng(0), cfg()).restore({ rng: 1, type: 'BANANASOptim' })).toThrow(/no history/);
  });

  it('is deterministic for a seed (through the component) and differs between seeds', async () => {
    const { space, f } = toyObjective();
    const run = async (seed: number) => driveSerially(await bananasOptim.create(cfg({ seed }), makeBuildContext({ space: space() }), undefined), f, 12);
    expect(await run(0)).toEqual(await run(0));
    expect(await run(1)).not.toEqual(await run(0));
  });

  it('beats random search on the toy objective (mean best of 40 queries over 8 seeds)', () => {
    const { space, f } = toyObjective();
    let rs = 0;
    let bo = 0;
    for (let seed = 0; seed < 8; seed++) {
      rs += bestOf(new RandomSearchOptim(space(), componentRng(0, new Rng(seed))), f, 40) / 8;
      bo += bestOf(new BANANASOptim(space(), componentRng(0, new Rng(seed)), cfg()), f, 40) / 8;
    }
    expect(bo).toBeGreaterThan(rs + 0.1);
  });
});
