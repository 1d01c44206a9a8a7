import type { ArchSpace, Assignment, Logger, Rng, SearchFeedback } from '@modnas/core';
import { ModnasError, defineComponent, silentLogger, z } from '@modnas/core';
import type { Encoder } from '@modnas/kit-optim';
import { CategoricalSpaceOptim, adjacencyEncoder, componentRng, fitEnsemble, pathEncoder } from '@modnas/kit-optim';

export const bananasOptimSchema = z.strictObject({
  num_init: z.number().int().min(1).default(10).describe('Random architectures evaluated before the first predictor fit'),
  proposals: z.number().int().min(1).default(10).describe('Architectures chosen per predictor fit (the paper’s k): the predictor is retrained once per this many queries'),
  num_candidates: z.number().int().min(1).default(100).describe('Candidates scored by the acquisition per fit: unseen mutations of the best architectures'),
  mutate_top: z.number().int().min(1).default(2).describe('Candidates are mutations of the best this many evaluated architectures'),
  max_edits: z.number().int().min(1).default(2).describe('A candidate differs from its parent in 1..max_edits params (uniform)'),
  random_candidates: z.number().min(0).max(1).default(0).describe('Fraction of the candidates drawn uniformly at random instead of mutated (0: mutations only, as the paper)'),
  acquisition: z.enum(['its', 'ucb']).default('its').describe('its: independent Thompson sampling (one draw from N(mean, std) of the ensemble per candidate); ucb: mean + ucb_beta * std'),
  ucb_beta: z.number().nonnegative().default(0.5).describe('Weight of the ensemble std in ucb'),
  encoding: z
    .enum(['auto', 'path', 'adjacency'])
    .default('auto')
    .describe('Predictor input: path (op sequences from input to output of a cell whose params are edges "j<-i"), adjacency (one-hot of every param), auto: path where it applies'),
  none_ops: z.array(z.string()).default(['none', 'zero', 'Zero']).describe('Op values that cut a path (path encoding)'),
  ensemble_size: z.number().int().min(1).default(5).describe('MLPs in the ensemble (the paper: 5)'),
  layers: z.number().int().min(1).default(1).describe('Hidden layers per MLP'),
  width: z.number().int().min(1).default(20).describe('Units per hidden layer (the paper: 20)'),
  steps: z.number().int().min(1).default(100).describe('Full-batch Adam steps per fit'),
  lr: z.number().positive().default(0.01).describe('Adam learning rate (the paper: 0.01)'),
  weight_decay: z.number().nonnegative().default(0).describe('L2 penalty on the MLP weights'),
  loss: z
    .enum(['mae', 'mse', 'mape'])
    .default('mape')
    .describe('Training loss on the standardised scores: mae (mean absolute error), mse, or mape (absolute error weighted by 1 / (best + mape_margin − score): the effort goes to the best)'),
  mape_margin: z.number().positive().default(0.5).describe('mape: margin above the best score, in standard deviations of the scores'),
  seed: z.number().int().nonnegative().default(0).describe("Seed of the draws and the MLP initialisation, mixed with the experiment's seed"),
});
export type BANANASConfig = z.output<typeof bananasOptimSchema>;

interface Scored {
  arch: Assignment;
  score: number;
}

/**
 * BANANAS (White, Neiswanger & Savani, AAAI 2021): Bayesian optimisation with an ensemble of
 * small MLPs as the surrogate. After `num_init` random architectures, each round fits the ensemble
 * on every evaluated architecture (path encoding where the space is a cell of edges, else one-hot),
 * scores `num_candidates` unseen mutations of the best architectures with independent Thompson
 * sampling (or UCB), and proposes the top `proposals`. No network is proposed twice (equivalent
 * architectures, by the space's networkKey, count as one).
 */
export class BANANASOptim extends CategoricalSpaceOptim {
  private seen = new Set<string>();
  private history: Scored[] = [];
  private queue: Assignment[] = [];
  private encoder?: Encoder;
  /** Predictor fits so far. */
  fits = 0;

  constructor(
    space: ArchSpace,
    rng: Rng,
    readonly config: BANANASConfig,
    private readonly logger: Logger = silentLogger,
  ) {
    super('BANANASOptim', space, rng);
  }

  override hasNext(): boolean {
    return BigInt(this.seen.size) < this.spaceSize();
  }

  /** The predictor's input encoding (built on first use, when the space is complete). */
  features(): Encoder {
    if (this.encoder) return this.encoder;
    const ps = this.params;
    const want = this.config.encoding;
    if (want === 'adjacency') return (this.encoder = adjacencyEncoder(ps));
    const path = pathEncoder(ps, this.config.none_ops);
    if (typeof path !== 'string') return (this.encoder = path);
    if (want === 'path') {
      throw new ModnasError('MODNAS_E_OPTIM_ENCODING', `BANANASOptim: the path encoding does not apply to this space: ${path}`, {
        fix: 'set optim.encoding: adjacency (or auto), or search a cell space whose params are its edges named "j<-i" (e.g. NASBench201Space)',
        where: 'optim.encoding',
      });
    }
    this.logger.debug(`BANANASOptim: adjacency encoding (the path encoding does not apply: ${path})`);
    return (this.encoder = adjacencyEncoder(ps));
  }

  next(n: number): Assignment[] {
    const out: Assignment[] = [];
    while (out.length < n && this.hasNext()) {
      if (this.queue.length === 0) this.refill();
      const arch = this.queue.shift();
      if (!arch) break;
      const key = this.space.networkKey(arch);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      out.push(arch);
    }
    return out;
  }

  override step(feedback: SearchFeedback): void {
    for (const r of feedback.results) if (Number.isFinite(r.score)) this.history.push({ arch: { ...r.arch }, score: r.score });
  }

  /** Queue the next proposals: random ones until num_init results (or too few to fit), then a predictor round. */
  private refill(): void {
    const initLeft = this.config.num_init - this.seen.size;
    if (initLeft > 0 || this.history.length < 2) {
      const k = Math.max(1, initLeft);
      for (let i = 0; i < k; i++) {
        const a = this.drawUnseen();
        if (a) this.queue.push(a);
      }
      return;
    }
    const candidates = this.candidates();
    if (candidates.length === 0) {
      const a = this.drawUnseen();
      if (a) this.queue.push(a);
      return;
    }
    const enc = this.features();
    const c = this.config;
    const model = fitEnsemble(
      this.history.map((h) => enc.encode(h.arch)),
      this.history.map((h) => h.score),
      { size: c.ensemble_size, layers: c.layers, width: c.width, steps: c.steps, lr: c.lr, weightDecay: c.weight_decay, loss: c.loss, mapeMargin: c.mape_margin },
      this.rng,
    );
    this.fits++;
    let pred;
    try {
      pred = model.predict(candidates.map((a) => enc.encode(a)));
    } finally {
      model.dispose();
    }
    const acq = candidates.map((_, j) => (c.acquisition === 'its' ? pred.mean[j] + pred.std[j] * this.rng.normal() : pred.mean[j] + c.ucb_beta * pred.std[j]));
    const order = candidates.map((_, j) => j).sort((a, b) => acq[b] - acq[a] || a - b);
    for (const j of order.slice(0, c.proposals)) this.queue.push(candidates[j]);
  }

  /** Up to num_candidates distinct unseen mutations of the best mutate_top evaluated architectures. */
  private candidates(): Assignment[] {
    const c = this.config;
    const parents = [...this.history].sort((a, b) => b.score - a.score).slice(0, c.mutate_top);
    const out: Assignment[] = [];
    const keys = new Set<string>();
    const free = this.params.filter((p) => p.cardinality > 1);
    if (free.length === 0) return out;
    const randoms = Math.round(c.random_candidates * c.num_candidates);
    for (let t = 0; t < 20 * randoms && out.length < randoms; t++) {
      const a = this.randomArch();
      const key = this.space.networkKey(a);
      if (this.seen.has(key) || keys.has(key)) continue;
      keys.add(key);
      out.push(a);
    }
    for (let t = 0; t < 20 * c.num_candidates && out.length < c.num_candidates; t++) {
      const child = { ...parents[t % parents.length].arch };
      const edits = 1 + this.rng.int(Math.min(c.max_edits, free.length));
      const order = free.map((_, i) => i);
      for (let e = 0; e < edits; e++) {
        const j = e + this.rng.int(order.length - e);
        [order[e], order[j]] = [order[j], order[e]];
        const p = free[order[e]];
        const cur = p.indexOf(child[p.name] ?? p.value);
        let k = this.rng.int(p.cardinality - 1);
        if (k >= cur && cur >= 0) k++;
        child[p.name] = p.valueAt(k);
      }
      const key = this.space.networkKey(child);
      if (this.seen.has(key) || keys.has(key)) continue;
      keys.add(key);
      out.push(child);
    }
    return out;
  }

  /** A uniform draw among the networks neither proposed nor queued, or undefined when there is none. */
  private drawUnseen(): Assignment | undefined {
    const queued = new Set(this.queue.map((q) => this.space.networkKey(q)));
    return this.randomUnseen((k) => this.seen.has(k) || queued.has(k));
  }

  protected saveState(): Record<string, unknown> {
    return {
      seen: [...this.seen],
      history: this.history.map((h) => ({ arch: { ...h.arch }, score: h.score })),
      queue: this.queue.map((a) => ({ ...a })),
      fits: this.fits,
    };
  }

  protected loadState(s: Record<string, unknown>): void {
    if (!Array.isArray(s.seen) || !Array.isArray(s.history) || !Array.isArray(s.queue)) {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', 'BANANASOptim: the state has no history', { fix: 'restore a state saved by BANANASOptim' });
    }
    this.seen = new Set((s.seen as unknown[]).map(String));
    this.history = (s.history as Scored[]).map((h) => ({ arch: { ...h.arch }, score: Number(h.score) }));
    this.queue = (s.queue as Assignment[]).map((a) => ({ ...a }));
    this.fits = Number(s.fits ?? 0);
  }
}

export const bananasOptim = defineComponent({
  kind: 'optim',
  id: 'BANANASOptim',
  aliases: ['BANANAS'],
  description: 'BANANAS: Bayesian optimisation with an ensemble of small MLPs on the path (or one-hot) encoding, Thompson sampling over mutations of the best',
  schema: bananasOptimSchema,
  create: (c, ctx) => new BANANASOptim(ctx.space, componentRng(c.seed, ctx.rng), c, ctx.logger),
});
