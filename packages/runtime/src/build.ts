/**
 * Building an experiment's network from its validated plan: the component factory (create and
 * the BuildContext that constructors build with), the data and its splits, the model through the
 * constructor chain (or from an arch_desc), the trainer and the metrics. The runner builds with
 * it, and so does every remote worker (remote-evaluator.ts), so both get the same network.
 */
import type { DependencyContainer } from 'tsyringe';
import type { ArchSpace, BuildContext, ComponentKind, ComponentSpec, DataSplit, Dataset, EstimContext, EstimResult, KindInput, KindOutput, MetricsFn, Registry, StateOptimizer } from '@modnas/core';
import type { tf } from '@modnas/core';
import { ModnasError, Module, Tokens } from '@modnas/core';
import { buildContextOf, required } from './scope.js';
import type { ExperimentPlan } from '@modnas/config';
import { chainEntries, configInvalid, parseComponentConfig, specConfig } from '@modnas/config';
import { groupDigits, splitTrainValid } from '@modnas/kit-estim';

/** A network with no weights, standing in when a search space has no network (tabular benchmarks). */
class NoNetwork extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

export const EMPTY_SPLIT: DataSplit = {
  size: 0,
  batches: () => [],
  subset: () => EMPTY_SPLIT,
};

export interface BuildEnv {
  plan: ExperimentPlan;
  registry: Registry;
  /** The experiment's container (experimentScope): what is built is bound in it. */
  container: DependencyContainer;
}

/** Creates the plan's components (and, for constructors, components by id). */
export interface ComponentFactory {
  create: <K extends ComponentKind>(path: string, input?: KindInput[K]) => Promise<KindOutput[K]>;
  ctxFor: (where: string) => BuildContext;
}

export function componentFactory(env: BuildEnv): ComponentFactory {
  const { plan, registry, container } = env;
  const ctxFor = (where: string): BuildContext =>
    buildContextOf(container, where, async <K extends ComponentKind>(kind: K, spec: ComponentSpec | string, input?: KindInput[K], at?: string) => {
      const path = at ?? where;
      const rc = plan.components.get(path);
      if (rc && rc.kind === kind) return (await rc.def.create(rc.config, ctxFor(path), input)) as KindOutput[K];
      const def = await registry.resolve(kind, specConfig(spec).type, path);
      const parsed = parseComponentConfig(def, spec, path);
      if (!parsed.ok) throw configInvalid(parsed.issues);
      return (await def.create(parsed.config, ctxFor(path), input)) as KindOutput[K];
    });
  const create = async <K extends ComponentKind>(path: string, input?: KindInput[K]): Promise<KindOutput[K]> => {
    const rc = plan.components.get(path);
    if (!rc) throw new ModnasError('MODNAS_E_INTERNAL', `no validated component at ${path}`);
    return (await rc.def.create(rc.config, ctxFor(path), input)) as KindOutput[K];
  };
  return { create, ctxFor };
}

export interface BuiltNetwork {
  dataset?: Dataset;
  splits: EstimContext['data'];
  model: Module;
  trainer?: StateOptimizer;
  metrics: MetricsFn[];
  numParams: number;
  spaceSize: string;
}

/**
 * Data, model (with its search space), trainer and metrics, each bound in the container
 * (Tokens.Dataset, Data, Model, StateOptimizer, Metrics). What was built is disposed again when a
 * later step throws.
 */
export async function buildNetwork(env: BuildEnv, factory: ComponentFactory = componentFactory(env)): Promise<BuiltNetwork> {
  const { plan, container } = env;
  const space = required(container, Tokens.ArchSpace);
  const logger = required(container, Tokens.Logger);
  const cfg = plan.config;
  const { create, ctxFor } = factory;
  let model: Module | undefined;
  let trainer: StateOptimizer | undefined;
  try {
    let dataset: Dataset | undefined;
    let splits: EstimContext['data'] = { train: EMPTY_SPLIT, valid: EMPTY_SPLIT };
    if (cfg.data && cfg.model) {
      dataset = await create<'dataset'>('data');
      const dp = cfg.data_provider;
      const capped = (sp: DataSplit | undefined, n?: number): DataSplit => (sp ? (n && n < sp.size ? sp.subset(Array.from({ length: n }, (_, i) => i)) : sp) : EMPTY_SPLIT);
      if (dataset.valid) {
        // a validation split of its own (an image folder's val/) wins over train_portion
        splits = { train: capped(dataset.train, dp.train_size), valid: capped(dataset.valid, dp.valid_size), test: dataset.test };
        if (dp.train_portion < 1) logger.info(`data: ${dataset.name} has a validation split of its own; data_provider.train_portion (${dp.train_portion}) is not used`);
      } else if (dp.train_portion < 1) {
        splits = { ...splitTrainValid(dataset.train, dp.train_portion, cfg.seed, { trainSize: dp.train_size, validSize: dp.valid_size }), test: dataset.test };
      } else {
        splits = { train: capped(dataset.train, dp.train_size), valid: capped(dataset.test, dp.valid_size), test: dataset.test };
      }
      container.registerInstance(Tokens.Dataset, dataset);
      logger.info(`data: ${dataset.name} ${dataset.inputShape.join('x')}, ${dataset.numClasses} classes; train ${splits.train.size}, valid ${splits.valid.size}${splits.test ? `, test ${splits.test.size}` : ''}`);
    }

    let numParams = 0;
    let spaceSize = '1';
    if (cfg.model) {
      model = await create<'backbone'>('model', { numClasses: dataset?.numClasses, inputShape: dataset?.inputShape });
      const fromDesc = cfg.arch_desc !== undefined;
      const chainKey = fromDesc ? 'desc_construct' : 'construct';
      const chain = chainEntries(fromDesc ? cfg.desc_construct : cfg.construct);
      if (fromDesc && chain.length === 0) {
        throw new ModnasError('MODNAS_E_CONFIG_INVALID', 'arch_desc is given but desc_construct names no constructor', {
          fix: 'add desc_construct: { arch_desc: { type: DefaultSlotArchDescConstructor } }',
          where: 'desc_construct',
        });
      }
      if (fromDesc) container.registerInstance(Tokens.ArchDesc, cfg.arch_desc);
      for (const [k] of chain) {
        const t = await create<'construct'>(`${chainKey}.${k}`);
        model = await t.apply(model, ctxFor(`${chainKey}.${k}`));
      }
      numParams = model.numParams();
      spaceSize = space.archSize().toString();
      logger.info(`model: ${numParams.toLocaleString('en-US')} weights, ${space.all().length} arch params, discrete space size ${describeSpaceSize(space)}`);
    } else if (cfg.space) {
      const def = await create<'space'>('space');
      model = new NoNetwork();
      spaceSize = space.archSize().toString();
      logger.info(`space: ${def.describe()}; ${space.all().length} arch params, size ${describeSpaceSize(space)}`);
    } else {
      model = new NoNetwork();
      // constructors without a network declare a space of their own (hyperparameters: DefaultHParamSpaceConstructor)
      for (const [k] of chainEntries(cfg.construct)) {
        const t = await create<'construct'>(`construct.${k}`);
        model = await t.apply(model, ctxFor(`construct.${k}`));
      }
      spaceSize = space.archSize().toString();
      if (space.all().length > 0) logger.info(`space: ${space.all().length} params, discrete space size ${describeSpaceSize(space)}`);
    }
    container.registerInstance(Tokens.Model, model);

    if (cfg.model) {
      trainer = await create<'trainer'>('trainer');
      container.registerInstance(Tokens.StateOptimizer, trainer);
    }
    const metrics: MetricsFn[] = [];
    for (const k of Object.keys(cfg.metrics)) metrics.push(await create<'metrics'>(`metrics.${k}`));
    container.registerInstance(Tokens.Data, splits);
    container.registerInstance(Tokens.Metrics, metrics);
    return { dataset, splits, model, trainer, metrics, numParams, spaceSize };
  } catch (e) {
    trainer?.dispose();
    model?.dispose();
    throw outOfMemory(e);
  }
}

/**
 * After an estimator: its best architecture (when it has one) applied to the space, the tensor
 * params read first, so the exporters that follow read the host's copy without blocking the backend.
 */
export async function adoptBest(space: ArchSpace, result: EstimResult): Promise<void> {
  await space.readTensors();
  if (result.best && Object.keys(result.best.arch).length > 0) space.apply(result.best.arch);
}

/**
 * An allocation the machine cannot make (a config that asks for a gigantic dataset or network):
 * a coded error instead of V8's "Invalid typed array length".
 */
function outOfMemory(e: unknown): unknown {
  if (!(e instanceof RangeError) || !/typed array length|array buffer allocation|invalid array length|allocation failed/i.test(e.message)) return e;
  return new ModnasError('MODNAS_E_CONFIG_MEMORY', `building the experiment asked for more memory than can be allocated (${e.message})`, {
    fix: 'make the data or the network smaller (data sizes, image_size, width or depth multipliers, channels)',
    cause: e,
  });
}

/** The space's `archSize()` with thousands separators and its factors, e.g. "15,625 (5^6)" or "10,000 (4^2 x 5^4)", for the log. */
export function describeSpaceSize(space: ArchSpace): string {
  const radix = new Map<bigint, number>();
  const count = (k: bigint, n: number): void => {
    if (k > 1n) radix.set(k, (radix.get(k) ?? 0) + n);
  };
  for (const p of space.discrete()) count(BigInt(p.cardinality), 1);
  for (const t of space.tensors()) count(BigInt(t.shape[t.shape.length - 1] ?? 1), t.shape.slice(0, -1).reduce((a, b) => a * b, 1));
  const factors = [...radix].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, n]) => (n === 1 ? `${k}` : `${k}^${n}`));
  const total = groupDigits(space.archSize());
  return factors.length > 1 || (factors.length === 1 && factors[0] !== total) ? `${total} (${factors.join(' x ')})` : total;
}
