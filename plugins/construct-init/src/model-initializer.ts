import type { Module } from '@modnas/core';
import { ModnasError, defineComponent, nextTensorSeed, tf, z } from '@modnas/core';
import { BatchNorm2d, Conv2d, Linear } from '@modnas/nn';

/**
 * The original ModularNAS's weight initializer (DefaultModelInitializer): each Conv2d, BatchNorm2d
 * and Linear (or a module the map names as one of them) gets its weight and bias drawn by a named
 * rule, with the gain PyTorch's calculate_gain gives for the nonlinearity. A rule of null leaves
 * that part as the layer built it (PyTorch's defaults); the original's default is null everywhere.
 */

/** The original's init rules: a tensor of `shape` from the gain and the layer's fans. */
const RULES = {
  he_normal_fout: (shape: number[], gain: number, _fi: number, fo: number) => tf.randomNormal(shape, 0, gain / Math.sqrt(fo), 'float32', nextTensorSeed()),
  he_normal_fin: (shape: number[], gain: number, fi: number) => tf.randomNormal(shape, 0, gain / Math.sqrt(fi), 'float32', nextTensorSeed()),
  he_uniform_fout: (shape: number[], gain: number, _fi: number, fo: number) => uniform(shape, (Math.sqrt(3) * gain) / Math.sqrt(fo)),
  he_uniform_fin: (shape: number[], gain: number, fi: number) => uniform(shape, (Math.sqrt(3) * gain) / Math.sqrt(fi)),
  xavier_uniform: (shape: number[], gain: number, fi: number, fo: number) => uniform(shape, (Math.sqrt(6) * gain) / Math.sqrt(fi + fo)),
  xavier_normal: (shape: number[], gain: number, fi: number, fo: number) => tf.randomNormal(shape, 0, (Math.sqrt(2) * gain) / Math.sqrt(fi + fo), 'float32', nextTensorSeed()),
  uniform_fin: (shape: number[], _gain: number, fi: number) => uniform(shape, 1 / Math.sqrt(fi)),
  uniform_fout: (shape: number[], _gain: number, _fi: number, fo: number) => uniform(shape, 1 / Math.sqrt(fo)),
  uniform: (shape: number[]) => tf.randomUniform(shape, 0, 1, 'float32', nextTensorSeed()),
  normal: (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', nextTensorSeed()),
  zeros: (shape: number[]) => tf.zeros(shape),
  ones: (shape: number[]) => tf.ones(shape),
} as const;
export type InitRule = keyof typeof RULES;
export const INIT_RULES = Object.keys(RULES) as InitRule[];

function uniform(shape: number[], b: number): tf.Tensor {
  return tf.randomUniform(shape, -b, b, 'float32', nextTensorSeed());
}

/** PyTorch's torch.nn.init.calculate_gain. */
export function calculateGain(nonlinear: string, param?: number): number {
  switch (nonlinear) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + (param ?? 0.01) ** 2));
    case 'selu':
      return 3 / 4;
    default:
      throw new ModnasError('MODNAS_E_CONSTRUCT_INIT', `DefaultModelInitializer: nonlinear ${JSON.stringify(nonlinear)} has no gain`, {
        fix: 'use linear, sigmoid, tanh, relu, leaky_relu, selu or a conv name, as torch.nn.init.calculate_gain',
        where: 'nonlinear',
      });
  }
}

const rule = z.enum(INIT_RULES as [InitRule, ...InitRule[]]).nullable();
const part = (what: string) => z.strictObject({ type: rule.default(null).describe(`Init rule of ${what} (null: as built)`) }).default({ type: null });

export const defaultModelInitializerSchema = z.strictObject({
  init_config: z
    .strictObject({
      conv: z
        .strictObject({
          type: rule.default(null).describe("Init rule of conv weights (null: PyTorch's default, as built)"),
          div_groups: z.boolean().default(true).describe("Divide a grouped conv's fans by its groups"),
        })
        .default({ type: null, div_groups: true })
        .describe('Conv2d weights'),
      norm: z
        .strictObject({
          type: rule.default(null).describe('Init rule of the batch norm scale (null: ones)'),
          momentum: z.number().min(0).max(1).nullable().default(null).describe('Sets the running-statistics momentum (null: unchanged)'),
          eps: z.number().positive().nullable().default(null).describe('Sets the variance epsilon (null: unchanged)'),
        })
        .default({ type: null, momentum: null, eps: null })
        .describe('BatchNorm2d: its running statistics are reset, then its scale drawn'),
      fc: part('Linear weights').describe('Linear weights'),
      bias: part('every bias').describe('Biases of convs, linears and batch norms (null: as built)'),
      gain: z.number().positive().nullable().default(null).describe('The gain of the rules (null: from nonlinear and neg_slope)'),
    })
    .default({ conv: { type: null, div_groups: true }, norm: { type: null, momentum: null, eps: null }, fc: { type: null }, bias: { type: null }, gain: null })
    .describe('Per layer type, the init rule (the original\'s init_config)'),
  module_init_map: z
    .record(z.string(), z.enum(['conv', 'norm', 'fc']))
    .default({})
    .describe('More module class names initialised as conv, norm or fc (Conv2d, BatchNorm2d and Linear are already)'),
  default_init_type: rule.default(null).describe('Init rule of the parameters of other leaf modules (null: as built)'),
  neg_slope: z.number().default(Math.sqrt(5)).describe('The leaky_relu slope of the gain (√5, as the original)'),
  nonlinear: z.string().default('leaky_relu').describe('The nonlinearity of the gain (torch.nn.init.calculate_gain)'),
});
export type DefaultModelInitializerConfig = z.output<typeof defaultModelInitializerSchema>;

type Kind = 'conv' | 'norm' | 'fc';

/** Draw `p` anew by `r` (nothing when r is null). */
function draw(p: tf.Variable | undefined, r: InitRule | null, gain: number, fanIn: number, fanOut: number): void {
  if (!p || r === null) return;
  const t = RULES[r](p.shape, gain, fanIn, fanOut);
  p.assign(t);
  t.dispose();
}

export class DefaultModelInitializer {
  readonly gain: number;

  constructor(readonly config: DefaultModelInitializerConfig) {
    this.gain = config.init_config.gain ?? calculateGain(config.nonlinear, config.neg_slope);
  }

  private kindOf(m: Module): Kind | undefined {
    if (m instanceof Conv2d) return 'conv';
    if (m instanceof BatchNorm2d) return 'norm';
    if (m instanceof Linear) return 'fc';
    return this.config.module_init_map[m.constructor.name];
  }

  apply(model: Module): Module {
    const c = this.config.init_config;
    const g = this.gain;
    for (const [, m] of model.modules()) {
      const kind = this.kindOf(m);
      if (kind === 'conv' && m instanceof Conv2d) {
        const [kh, kw] = m.weight.shape;
        const div = c.conv.div_groups ? m.groups : 1;
        const fanIn = (kh * kw * m.chnIn) / div;
        const fanOut = (kh * kw * m.chnOut) / div;
        draw(m.weight, c.conv.type, g, fanIn, fanOut);
        draw(m.bias, c.bias.type, g, fanIn, fanOut);
      } else if (kind === 'norm' && m instanceof BatchNorm2d) {
        const n = m.runningMean.shape[0];
        tf.tidy(() => {
          m.runningMean.assign(tf.zeros([n]));
          m.runningVar.assign(tf.ones([n]));
        });
        const tuned = m as { momentum: number; eps: number };
        if (c.norm.momentum !== null) tuned.momentum = c.norm.momentum;
        if (c.norm.eps !== null) tuned.eps = c.norm.eps;
        draw(m.gamma, c.norm.type, g, n, n);
        draw(m.beta, c.bias.type, g, n, n);
      } else if (kind === 'fc' && m instanceof Linear) {
        draw(m.weight, c.fc.type, g, m.inFeatures, m.outFeatures);
        draw(m.bias, c.bias.type, g, m.inFeatures, m.outFeatures);
      } else if (kind !== undefined) {
        throw new ModnasError('MODNAS_E_CONSTRUCT_INIT', `DefaultModelInitializer: module_init_map maps ${m.constructor.name} to ${kind}, but it is not a ${kind === 'conv' ? 'Conv2d' : kind === 'norm' ? 'BatchNorm2d' : 'Linear'}`, {
          fix: 'map only subclasses of Conv2d, BatchNorm2d or Linear (their weights are where the rules expect them)',
          where: 'module_init_map',
        });
      } else if (m.children().length === 0 && this.config.default_init_type !== null) {
        // other leaf modules: fans from the shape as the original reads it (out = dim 0, in = dim 1)
        for (const p of m.parameters()) {
          const s = p.shape;
          draw(p, this.config.default_init_type, g, s.length ? s[Math.min(1, s.length - 1)] : 1, s.length ? s[0] : 1);
        }
      }
    }
    return model;
  }
}

export const defaultModelInitializer = defineComponent({
  kind: 'construct',
  id: 'DefaultModelInitializer',
  description: "Re-initialises the network's weights by named rules per layer type (he/xavier/uniform/normal/zeros/ones, the original's init_config)",
  schema: defaultModelInitializerSchema,
  create: (config) => new DefaultModelInitializer(config),
});
