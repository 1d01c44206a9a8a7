import type { AnyComponentDef, Module, SlotSpec } from '@modnas/core';
import { ModnasError, Slot, defineComponent, z } from '@modnas/core';
import {
  CELU, ELU, HardSigmoid, HardSwish, Hardshrink, Hardtanh, LeakyReLU, LogSigmoid, PReLU, RReLU, ReLU, ReLU6, SELU, Sigmoid, Softplus, Softshrink, Softsign, Swish, Tanh, Tanhshrink, Threshold,
} from '@modnas/nn';

/**
 * The original ModularNAS's activations as arch_space names (its contrib activations: torch.nn's
 * activation modules registered by name, and its HardSigmoid, HardSwish and Swish), as primitives:
 * a Slot whose input and output agree (same channels, stride 1) can hold one, so a search can
 * choose a layer's activation. Arguments as torch names them; `inplace` is accepted and has no
 * effect (tensors here are immutable).
 */

const inplace = z.boolean().default(false).describe("PyTorch's in-place flag: accepted for the original's configs, no effect here");

/** The Slot must keep the shape: an activation changes neither channels nor resolution. */
function keepsShape(id: string, given: SlotSpec | undefined): SlotSpec {
  const spec = Slot.checkSpec(id, given);
  if (spec.chnIn !== spec.chnOut || spec.stride !== 1) {
    throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `${id} is an activation: it keeps the shape, but its Slot has chnIn ${spec.chnIn}, chnOut ${spec.chnOut} and stride ${spec.stride}`, {
      fix: 'use activations in Slots with chnIn equal to chnOut and stride 1, or a conv primitive (NC3, SC3) in this Slot',
    });
  }
  return spec;
}

function activation<S extends z.ZodObject>(id: string, description: string, schema: S, make: (c: z.output<S>, spec: SlotSpec) => Module): AnyComponentDef {
  return defineComponent({
    kind: 'primitive',
    id,
    description,
    schema,
    create: (c, _ctx, spec: SlotSpec) => make(c, keepsShape(id, spec)),
  }) as AnyComponentDef;
}

const plain = z.strictObject({ inplace });
const alpha = z.strictObject({ alpha: z.number().positive().default(1).describe('alpha: the value the negative side saturates at is -alpha'), inplace });
const lambd = (what: string) => z.strictObject({ lambd: z.number().min(0).default(0.5).describe(`lambda: ${what}`) });

export const activations: AnyComponentDef[] = [
  activation('ReLU', 'ReLU: max(0, x)', plain, () => new ReLU()),
  activation('ReLU6', 'ReLU6: min(max(0, x), 6)', plain, () => new ReLU6()),
  activation('ELU', 'ELU: x above 0, alpha·(exp(x) - 1) below', alpha, (c) => new ELU(c.alpha)),
  activation('CELU', 'CELU: max(0, x) + min(0, alpha·(exp(x / alpha) - 1))', alpha, (c) => new CELU(c.alpha)),
  activation('SELU', 'SELU: the self-normalising ELU (scale 1.0507, alpha 1.6733)', plain, () => new SELU()),
  activation(
    'LeakyReLU',
    'LeakyReLU: x above 0, negative_slope·x below',
    z.strictObject({ negative_slope: z.number().default(0.01).describe('Slope of the negative side'), inplace }),
    (c) => new LeakyReLU(c.negative_slope),
  ),
  activation(
    'PReLU',
    'PReLU: LeakyReLU with a learned slope, shared (num_parameters 1) or per channel',
    z.strictObject({
      num_parameters: z.number().int().positive().default(1).describe("Learned slopes: 1 (shared) or the Slot's channel count (one per channel)"),
      init: z.number().default(0.25).describe('Initial slope'),
    }),
    (c, s) => {
      if (c.num_parameters !== 1 && c.num_parameters !== s.chnIn) {
        throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `PReLU: num_parameters ${c.num_parameters} is neither 1 nor the Slot's ${s.chnIn} channels`, { fix: `set num_parameters to 1 or ${s.chnIn}`, where: 'num_parameters' });
      }
      return new PReLU(c.num_parameters, c.init);
    },
  ),
  activation(
    'RReLU',
    'RReLU: a negative slope drawn from [lower, upper] per element in training, their mean in inference',
    z.strictObject({
      lower: z.number().default(1 / 8).describe('Lowest negative slope'),
      upper: z.number().default(1 / 3).describe('Highest negative slope'),
      inplace,
    }),
    (c) => {
      if (c.lower > c.upper) throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `RReLU: lower (${c.lower}) is above upper (${c.upper})`, { fix: 'give lower <= upper', where: 'lower' });
      return new RReLU(c.lower, c.upper);
    },
  ),
  activation(
    'Hardtanh',
    'Hardtanh: x clamped to [min_val, max_val]',
    z.strictObject({ min_val: z.number().default(-1).describe('Lower clamp'), max_val: z.number().default(1).describe('Upper clamp'), inplace }),
    (c) => {
      if (c.min_val >= c.max_val) throw new ModnasError('MODNAS_E_PRIMITIVE_ARGS', `Hardtanh: min_val (${c.min_val}) is not below max_val (${c.max_val})`, { fix: 'give min_val < max_val', where: 'min_val' });
      return new Hardtanh(c.min_val, c.max_val);
    },
  ),
  activation('Hardshrink', 'Hardshrink: x where |x| > lambd, else 0', lambd('values within ±lambd become 0'), (c) => new Hardshrink(c.lambd)),
  activation('Softshrink', 'Softshrink: x shrunk towards 0 by lambd, 0 within ±lambd', lambd('the amount values shrink by'), (c) => new Softshrink(c.lambd)),
  activation('Tanhshrink', 'Tanhshrink: x - tanh(x)', z.strictObject({}), () => new Tanhshrink()),
  activation(
    'Threshold',
    'Threshold: x above threshold, else value',
    z.strictObject({ threshold: z.number().describe('Values at or below it are replaced'), value: z.number().describe('What they are replaced by'), inplace }),
    (c) => new Threshold(c.threshold, c.value),
  ),
  activation('Sigmoid', 'Sigmoid: 1 / (1 + exp(-x))', z.strictObject({}), () => new Sigmoid()),
  activation('LogSigmoid', 'LogSigmoid: log(sigmoid(x))', z.strictObject({}), () => new LogSigmoid()),
  activation('Tanh', 'Tanh', z.strictObject({}), () => new Tanh()),
  activation(
    'Softplus',
    'Softplus: log(1 + exp(beta·x)) / beta (x itself where beta·x > threshold)',
    z.strictObject({ beta: z.number().positive().default(1).describe('Sharpness'), threshold: z.number().default(20).describe('Above beta·x = threshold the output is x') }),
    (c) => new Softplus(c.beta, c.threshold),
  ),
  activation('Softsign', 'Softsign: x / (1 + |x|)', z.strictObject({}), () => new Softsign()),
  activation('Swish', 'Swish (SiLU): x·sigmoid(x)', z.strictObject({}), () => new Swish()),
  activation('HardSigmoid', "HardSigmoid (MobileNetV3's): relu6(x + 3) / 6", plain, () => new HardSigmoid()),
  activation('HardSwish', "HardSwish (MobileNetV3's): x·relu6(x + 3) / 6", plain, () => new HardSwish()),
];
