import type { ArchSpace, Module, SearchFeedback } from '@modnas/core';
import { ModnasError, defineComponent, z } from '@modnas/core';
import { DARTS_ADAM_DEFAULTS, adamArgsFields } from '@modnas/kit-optim';
import { DirectGradOptim } from './direct-grad-optim.js';

export const gumbelAnnealingOptimSchema = z.strictObject({
  ...adamArgsFields(DARTS_ADAM_DEFAULTS),
  init_temp: z.number().positive().default(1e4).describe('Temperature τ of the Gumbel-softmax mixed ops at the first step (the original: 1e4, near-uniform weights)'),
  exp_anneal_rate: z.number().min(0).default(0.0015).describe('τ = init_temp · exp(-exp_anneal_rate · step / anneal_interval), updated every anneal_interval steps'),
  anneal_interval: z.number().int().positive().default(1).describe('Steps between temperature updates'),
  restart_period: z.number().int().min(0).nullable().default(null).describe('Steps after which the schedule starts again from init_temp (null or 0: never)'),
});
export type GumbelAnnealingOptimConfig = z.output<typeof gumbelAnnealingOptimSchema>;

/** A mixed op whose sampling temperature can be set (GumbelSum). */
interface Tempered {
  setTemperature(t: number): void;
}

const isTempered = (m: Module): m is Module & Tempered => typeof (m as Partial<Tempered>).setTemperature === 'function';

/**
 * SNAS (Xie et al. 2019) as the original's GumbelAnnealingOptim: before each step the temperature
 * of every Gumbel-softmax mixed op in the network is set to τ; α then takes an Adam step along ∇α
 * of a validation batch's loss (through the relaxed samples); τ decays exponentially with the steps,
 * so the mixed ops go from near-uniform mixing to near one-hot samples.
 */
export class GumbelAnnealingOptim extends DirectGradOptim {
  private temp: number;
  private curStep = 0;

  constructor(
    space: ArchSpace,
    readonly config: GumbelAnnealingOptimConfig,
  ) {
    super(space, config, 'valid', 'GumbelAnnealingOptim');
    this.temp = config.init_temp;
  }

  /** The temperature the next step applies. */
  get temperature(): number {
    return this.temp;
  }

  override step(feedback: SearchFeedback): void {
    const model = this.gradAccess(feedback).model;
    let tempered = 0;
    for (const [, m] of model.modules()) {
      if (isTempered(m)) {
        m.setTemperature(this.temp);
        tempered++;
      }
    }
    if (tempered === 0) {
      throw new ModnasError('MODNAS_E_OPTIM_CONFIG', 'GumbelAnnealingOptim: the network has no Gumbel-softmax mixed op whose temperature it could anneal', {
        fix: 'use GumbelSum as the mixed op (construct: { type: DefaultMixedOpConstructor, mixed_op: GumbelSum }), or DirectGradOptimBiLevel for other mixed ops',
      });
    }
    super.step(feedback);
    const c = this.config;
    this.curStep++;
    if (c.restart_period && this.curStep >= c.restart_period) this.curStep = 0;
    if (this.curStep % c.anneal_interval === 0) this.temp = c.init_temp * Math.exp((-c.exp_anneal_rate * this.curStep) / c.anneal_interval);
  }

  protected override extraState(): unknown {
    return { temp: this.temp, curStep: this.curStep };
  }

  protected override restoreExtra(extra: unknown): void {
    const e = extra as { temp?: unknown; curStep?: unknown } | undefined;
    if (typeof e?.temp !== 'number' || typeof e.curStep !== 'number') {
      throw new ModnasError('MODNAS_E_OPTIM_STATE', 'GumbelAnnealingOptim: the saved state has no temperature schedule', { fix: 'restore a state saved by GumbelAnnealingOptim' });
    }
    this.temp = e.temp;
    this.curStep = e.curStep;
  }
}

export const gumbelAnnealingOptim = defineComponent({
  kind: 'optim',
  id: 'GumbelAnnealingOptim',
  description: 'SNAS: Adam on α from a validation batch through Gumbel-softmax mixed ops, their temperature annealed exponentially',
  schema: gumbelAnnealingOptimSchema,
  create(config, ctx) {
    return new GumbelAnnealingOptim(ctx.space, config);
  },
});
