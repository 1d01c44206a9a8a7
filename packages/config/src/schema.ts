import { z } from 'zod';

/** `{ type: Id, args?: {...}, ...keys }`: a component and its config (args and inline keys merge). */
export const ComponentSpecSchema = z.preprocess(
  // A bare id ("MobileNetV2PredefinedConstructor") is a spec with no options.
  (v) => (typeof v === 'string' ? { type: v } : v),
  z.object({
    type: z.string().min(1).describe('Registry id of the component (or an alias)'),
    args: z.record(z.string(), z.unknown()).nullable().optional().describe('The component config (keys may also be written beside "type")'),
  }).catchall(z.unknown()),
);

/** An ordered chain of components: a list, or a map whose key order is the order. */
export const ComponentChainSchema = z.union([z.array(ComponentSpecSchema), z.record(z.string(), ComponentSpecSchema)]);

export const DataProviderSchema = z
  .strictObject({
    train_portion: z
      .number()
      .gt(0)
      .lte(1)
      .default(0.5)
      .describe('Share of the training split used to train weights; the rest is the validation split (search). 1 validates on the test split.'),
    train_size: z.number().int().positive().optional().describe('Use at most this many training examples (quick runs)'),
    valid_size: z.number().int().positive().optional().describe('Use at most this many validation examples (quick runs)'),
  })
  .describe('How the dataset is split into train and valid');

export const CheckpointSchema = z
  .strictObject({
    epochs: z.number().int().min(0).default(1).describe('Checkpoint every this many epochs of an estimator (0: only between estimators)'),
    candidates: z.number().int().min(0).default(10).describe('Checkpoint every this many evaluated candidates (0: only between estimators)'),
    keep: z.number().int().min(1).default(2).describe('Checkpoints kept per run (older ones are deleted)'),
  })
  .describe('When a run saves what --resume continues from (weights, optimizer states, RNGs, the estimator position)');

export const WriterSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Write the run\'s scalars as TensorBoard event files under <experiment folder>/writers/<run id>/ (tensorboard --logdir <experiment folder>/writers)'),
  })
  .describe('TensorBoard event files of every run: each estimator\'s epoch metrics and softmax(α) per epoch, the best score so far per candidate (the original\'s writer)');

/** The native experiment format. Every key has a default except what names components. */
export const ExperimentSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\w.-]+$/, 'letters, digits, _ . - only')
      // "." and ".." are the output folder itself and its parent, not a folder in it
      .refine((n) => n !== '.' && n !== '..', 'a folder name inside output_dir, not "." or ".."')
      .default('default')
      .describe('Experiment name; outputs go to <output_dir>/<name>'),
    output_dir: z.string().default('exp').describe('Folder that holds experiment folders'),
    seed: z.number().int().nonnegative().default(0).describe('Seed of every random choice (data order, sampling, init)'),
    backend: z.string().default('auto').describe('Tensor backend: auto, tensorflow, webgpu, native, wasm, cpu (env MODNAS_BACKEND overrides auto)'),
    quick: z
      .boolean()
      .default(false)
      .describe('A quick run: at most 1 epoch per estimator, at most 512 training and 256 validation examples (try a config in minutes)'),
    log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Lowest level written to the console and logs/'),
    data: ComponentSpecSchema.optional().describe('The dataset component'),
    data_provider: DataProviderSchema.default({ train_portion: 0.5 }),
    model: ComponentSpecSchema.optional().describe('The base model (backbone) that Slots make a search space'),
    space: ComponentSpecSchema.optional().describe('A search space of arch params alone (tabular benchmarks), instead of a model'),
    construct: ComponentChainSchema.default([]).describe('Constructors applied in order to the model in the search phase'),
    arch_desc: z.unknown().optional().describe('An architecture description (or the path of its YAML file): build the model from it with desc_construct'),
    desc_construct: ComponentChainSchema.default([]).describe('Constructors that build the fixed network from arch_desc'),
    trainer: ComponentSpecSchema.default({ type: 'DefaultTrainer' }).describe('The state optimizer ω that trains weights'),
    optim: ComponentSpecSchema.optional().describe('The search optimizer Ω'),
    estim: z.record(z.string(), ComponentSpecSchema).default({}).describe('Estimators η, run in order (e.g. warmup then search)'),
    export: z.record(z.string(), ComponentSpecSchema).default({}).describe('Exporters of the best architecture'),
    metrics: z.record(z.string(), ComponentSpecSchema).default({}).describe('Metrics measured on candidates (params, flops, latency)'),
    callbacks: z.record(z.string(), ComponentSpecSchema).default({}).describe('Callbacks attached to the event bus'),
    store: ComponentSpecSchema.optional().describe('The experiment store: runs, trials, epoch metrics and checkpoints (default: SqliteStore, one SQLite file per experiment folder, when @modnas/store-sqlite is installed)'),
    executor: ComponentSpecSchema.optional().describe('Where candidates are evaluated: InProcessExecutor (the default), WorkerThreadsExecutor (worker threads on this machine), BullMQExecutor (modnas worker processes on Redis, @modnas/executor-bullmq)'),
    checkpoint: CheckpointSchema.default({ epochs: 1, candidates: 10, keep: 2 }),
    writer: WriterSchema.default({ enabled: true }),
  })
  .describe('A @modnas experiment');

export type ComponentSpecConfig = z.infer<typeof ComponentSpecSchema>;
export type ExperimentConfig = z.infer<typeof ExperimentSchema>;

/** The chain as an ordered list of [name, spec]. */
export function chainEntries(chain: ExperimentConfig['construct']): Array<[string, ComponentSpecConfig]> {
  return Array.isArray(chain) ? chain.map((s, i) => [String(i), s]) : Object.entries(chain);
}
