import type { BuildContext, ComponentKind, ComponentSpec, DataSplit, EstimContext, KindInput, KindOutput, Module, SearchOptimizer, StateOptimizer } from '@modnas/core';
import { specConfig } from '@modnas/config';
import { ArchSpace, EventBus, Rng, Tokens, getRegistry, silentLogger, silentProgress } from '@modnas/core';
import { ArraySplit } from '@modnas/kit-estim';
import { MemoryExperimentStore } from '@modnas/services';
import { container as rootContainer } from 'tsyringe';

/**
 * A BuildContext over a fresh arch space and child container; `build` resolves from the registry.
 * `outputDir` stands for the experiment folder (Tokens.OutputDir) that components write files in.
 */
export function makeBuildContext(opts: { space?: ArchSpace; seed?: number; where?: string; outputDir?: string } = {}): BuildContext {
  const space = opts.space ?? new ArchSpace();
  const container = rootContainer.createChildContainer();
  if (opts.outputDir !== undefined) container.registerInstance(Tokens.OutputDir, opts.outputDir);
  const rng = new Rng(opts.seed ?? 0);
  const ctx: BuildContext = {
    container,
    space,
    rng,
    logger: silentLogger,
    where: opts.where ?? 'test',
    build: async <K extends ComponentKind>(kind: K, spec: ComponentSpec | string, input?: KindInput[K], where?: string): Promise<KindOutput[K]> => {
      const { type, config } = specConfig(spec);
      const def = await getRegistry().resolve(kind, type, where);
      return (await def.create(def.schema.parse(config), { ...ctx, where: where ?? ctx.where }, input)) as KindOutput[K];
    },
  };
  return ctx;
}

/**
 * Tiny learnable data: `n` images of `shape` whose class is encoded in the mean brightness of the
 * first channel, so a few steps of training move accuracy above chance.
 */
export function tinySplit(n: number, shape: [number, number, number] = [8, 8, 3], classes = 4, seed = 0): DataSplit {
  const rng = new Rng(seed);
  const per = shape[0] * shape[1] * shape[2];
  const images = new Float32Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.int(classes);
    labels[i] = y;
    for (let j = 0; j < per; j++) {
      const ch = j % shape[2];
      images[i * per + j] = (ch === 0 ? (y + 0.5) / classes : 0.5) + 0.1 * rng.normal();
    }
  }
  return new ArraySplit(images, labels, shape);
}

/** An EstimContext for estimator tests: tiny train/valid splits and in-memory store. */
export function makeEstimContext(parts: {
  model: Module;
  space: ArchSpace;
  trainer: StateOptimizer;
  optim?: SearchOptimizer;
  train?: DataSplit;
  valid?: DataSplit;
  seed?: number;
  name?: string;
  /** The experiment's container (default: a fresh child of the root), e.g. a BuildContext's, where a space component registered its token. */
  container?: BuildContext['container'];
}): EstimContext & { store: MemoryExperimentStore } {
  return {
    name: parts.name ?? 'search',
    model: parts.model,
    space: parts.space,
    trainer: parts.trainer,
    optim: parts.optim,
    data: { train: parts.train ?? tinySplit(32), valid: parts.valid ?? tinySplit(16, undefined, undefined, 1) },
    metrics: [],
    events: new EventBus(),
    logger: silentLogger,
    progress: silentProgress,
    rng: new Rng(parts.seed ?? 0),
    store: new MemoryExperimentStore(),
    container: parts.container ?? rootContainer.createChildContainer(),
  };
}
