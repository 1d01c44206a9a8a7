import type { Assignment, EstimContext, EstimResult, Rng, TrialResult } from '@modnas/core';
import { ModnasError, z } from '@modnas/core';
import { estimCheckpoints, formatNum } from '@modnas/kit-estim';

/** One answered query: what the search sees, and what it cost. */
export interface TabularQuery {
  /** The fitness the search optimizer gets as the candidate's score. */
  fitness: number;
  /** The simulated cost charged to the budget (seconds, or 1 per query). */
  cost: number;
  /** More numbers of the row the optimizer may use (e.g. params and flops, for multi-objective search). */
  metrics?: Record<string, number>;
}

/** A table that answers queries: the contract between a benchmark plugin and the search loop. */
export interface TabularBenchmark {
  /** For logs, e.g. "NAS-Bench-201 cifar10". */
  readonly name: string;
  /** Unit of the costs, e.g. "s" or "queries". */
  readonly unit: string;
  /** The row of a candidate; throws a ModnasError for a candidate outside the table. */
  rowOf(arch: Assignment): number;
  /** Answer one query of a row (rng draws the training seed where the table has several). */
  query(row: number, rng: Rng): TabularQuery;
  /** The numbers reported for a row once the search is over (e.g. test_acc). */
  report(row: number): Record<string, number>;
  /** A readable name of a row (e.g. the NAS-Bench-201 arch string). */
  label(row: number): string;
  /** The metric of report() that ranks the table, with its best row (for regret and hit counts). */
  readonly target: { metric: string; row: number; value: number };
}

/** Keys every tabular estimator shares (merge into its schema). */
export const tabularSearchShape = {
  batch_size: z.number().int().min(1).default(1).describe('Candidates asked of the optimizer per step'),
  max_queries: z.number().int().nonnegative().default(0).describe('Stop after this many queries (0: only the budget stops the search)'),
  record_trials: z.boolean().default(true).describe('Append every query to the "trials" stream of the result store'),
  stop_on_target: z.boolean().default(false).describe("Stop once the table's best architecture has been queried (benchmarks of queries-to-optimum)"),
};

export interface TabularSearchOptions {
  /** Budget in the benchmark's unit; a query that would exceed it is not made. */
  budget: number;
  batchSize: number;
  /** 0: unlimited. */
  maxQueries: number;
  recordTrials: boolean;
  /** Stop once the table's best row has been queried. */
  stopOnTarget?: boolean;
}

/**
 * The search loop on a table: ask the optimizer for candidates, answer each from the table and
 * charge its simulated cost, stop when the next query would exceed the budget (it is then not
 * made and its result not given to the optimizer, as the official NAS-Bench-201 code), when the
 * optimizer has nothing left, or after max_queries. The best candidate is the one of highest
 * fitness (the first of equals); its reported numbers are the result's metrics.
 *
 * Metrics: the benchmark's report() of the best row, plus fitness (its fitness), queries,
 * sim_cost (total charged), budget, regret (target value − the best row's target metric) and
 * first_hit (1-based query at which the table's best row was first queried; 0 if never).
 */
export async function runTabularSearch(ctx: EstimContext, bench: TabularBenchmark, opts: TabularSearchOptions): Promise<EstimResult> {
  const optim = ctx.optim;
  if (!optim) {
    throw new ModnasError('MODNAS_E_ESTIM_NO_OPTIM', `estim.${ctx.name}: a tabular search needs a search optimizer`, {
      fix: 'add e.g. optim: { type: RegularizedEvolutionOptim, population_size: 10, sample_size: 3 }',
      where: `estim.${ctx.name}`,
    });
  }
  // Resumed: the checkpoint restored the optimizer and the query RNG; continue the loop's counters.
  const ckpt = estimCheckpoints(ctx);
  type Position = { spent: number; queries: number; firstHit: number; best?: { row: number; fitness: number; arch: Assignment } };
  const at = ckpt.resumed<Position>();
  let spent = at?.spent ?? 0;
  let queries = at?.queries ?? 0;
  let firstHit = at?.firstHit ?? 0;
  let best: Position['best'] = at?.best;
  const limited = opts.maxQueries > 0;
  const task = ctx.progress.start(`${ctx.name}: ${bench.name}`, Number.isFinite(opts.budget) ? opts.budget : opts.maxQueries);
  if (at) task.tick(Number.isFinite(opts.budget) ? spent : queries);
  let exhausted = false;

  while (!exhausted && optim.hasNext() && !ctx.signal?.aborted) {
    const n = limited ? Math.min(opts.batchSize, opts.maxQueries - queries) : opts.batchSize;
    if (n <= 0) break;
    const candidates = optim.next(n);
    if (candidates.length === 0) break;
    const results: TrialResult[] = [];
    for (const arch of candidates) {
      const row = bench.rowOf(arch);
      const q = bench.query(row, ctx.rng);
      if (spent + q.cost > opts.budget) {
        exhausted = true;
        break;
      }
      spent += q.cost;
      queries++;
      if (row === bench.target.row && firstHit === 0) firstHit = queries;
      if (!best || q.fitness > best.fitness) best = { row, fitness: q.fitness, arch };
      const metrics = { ...q.metrics, fitness: q.fitness, cost: q.cost, sim_cost: spent };
      results.push({ arch, score: q.fitness, metrics });
      if (opts.recordTrials) ctx.store.append('trials', { estim: ctx.name, query: queries, row, arch, ...metrics });
      await ctx.events.emit('candidate:end', { estim: ctx.name, index: queries - 1, arch, score: q.fitness, metrics });
      task.tick(Number.isFinite(opts.budget) ? q.cost : 1, { best: best.fitness });
      if (opts.stopOnTarget && firstHit > 0) {
        exhausted = true;
        break;
      }
    }
    if (results.length > 0) await optim.step({ results });
    if (!exhausted) await ckpt.save('candidate', { spent, queries, firstHit, best } satisfies Position, results.length);
  }

  const base = { queries, sim_cost: spent, budget: opts.budget, first_hit: firstHit };
  if (!best) {
    task.done();
    ctx.logger.warn(`estim ${ctx.name}: no query fits in the budget of ${opts.budget} ${bench.unit}`);
    return { metrics: base };
  }
  const reported = bench.report(best.row);
  const regret = bench.target.value - (reported[bench.target.metric] ?? NaN);
  const metrics = { ...reported, fitness: best.fitness, ...base, regret };
  task.done({ queries, [bench.target.metric]: reported[bench.target.metric] ?? NaN });
  ctx.logger.info(
    `estim ${ctx.name}: ${queries} queries, ${formatNum(spent)} ${bench.unit} of ${formatNum(opts.budget)}; best ${bench.label(best.row)} fitness ${formatNum(best.fitness)} ${bench.target.metric} ${formatNum(reported[bench.target.metric] ?? NaN)}`,
  );
  return { best: { arch: best.arch, score: best.fitness, metrics: reported }, metrics };
}
