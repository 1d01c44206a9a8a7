// The search spaces the latency benchmark measures, built by the runtime from a config as a search
// builds them: the quickstart's MobileNetV2 space (MNIST, 28x28x1) and a CIFAR-size one (32x32x3,
// the CIFAR MobileNetV2 rows of bench/engine/models.mjs, one block per stage to keep 200 networks
// per target affordable on 2 cores).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { EventBus, getRegistry, silentLogger, silentProgress } = await import(join(root, 'packages/core/dist/index.js'));
const { prepareExperiment, experimentScope, buildNetwork, componentFactory, selectBackend } = await import(join(root, 'packages/runtime/dist/index.js'));
const { MemoryExperimentStore } = await import(join(root, 'packages/services/dist/index.js'));

export const SPACES = {
  quickstart: { files: [join(root, 'examples/quickstart/search.yaml')], overrides: ['data_provider.train_size=64', 'data_provider.valid_size=64'] },
  cifar: {
    files: [join(root, 'examples/quickstart/search.yaml')],
    overrides: [
      'name=cifar-blocks',
      'data={"type":"Synthetic","image_size":32,"channels":3,"num_classes":10,"size":64}',
      'data_provider={"train_portion":0.5}',
      'model.cfgs=[[0,32,1,1],[1,16,1,1],[6,24,2,1],[6,32,2,2],[6,64,2,2],[6,96,1,1]]',
    ],
  },
};

/** The supernet of a space (every block a mixed op), its input shape, and a dispose. */
export async function buildSpace(name) {
  const s = SPACES[name];
  const registry = getRegistry();
  const { plan } = await prepareExperiment(s.files, s.overrides, { cwd: root, registry });
  await selectBackend({ registry, logger: silentLogger });
  const scope = experimentScope(plan, { logger: silentLogger, events: new EventBus(), progress: silentProgress, store: new MemoryExperimentStore() });
  const env = { plan, registry, container: scope.container };
  const built = await buildNetwork(env, componentFactory(env));
  const b = built.splits.train.batches(1).next().value;
  const inputShape = b.x.shape.slice(1);
  b.x.dispose();
  b.y.dispose();
  return { model: built.model, inputShape, space: scope.space, dispose: () => (built.trainer?.dispose(), built.model.dispose(), scope.space.dispose()) };
}

/**
 * Networks of the quickstart space measured side by side on `target` (one runtime, so one
 * browser): a 2 s warm-up, then `rounds` interleaved rounds of 30 samples each, summarized per
 * network (median and IQR of its round medians). A network is its chosen candidates' names; the
 * last ones count, one per searched block (an exported description may lead with the fixed first
 * block). `label(n)` names network n in errors.
 */
export async function measureSideBySide(target, networks, { rounds = 5, label = (n) => `network ${n + 1}` } = {}) {
  const L = await import(join(root, 'packages/kit-latency/dist/index.js'));
  const space = await buildSpace('quickstart');
  const ops = L.tableOps(space.model);
  const choices = networks.map((names, n) => {
    if (names.length < ops.length) throw new Error(`${label(n)}: ${names.length} choices for ${ops.length} searched blocks`);
    const own = names.slice(names.length - ops.length);
    return ops.map(([, op], i) => {
      const k = op.candidateNames().indexOf(own[i]);
      if (k < 0) throw new Error(`${label(n)}: ${own[i]} is not a candidate of ${op.candidateNames()}`);
      return k;
    });
  });
  const runtime = await L.openRuntime(target, { threads: 1 });
  const timing = { batch_size: 1, warmup: 10, rep: 30, min_sample_ms: 2 };
  const measure = async (c) => (await L.measureChoice(space.model, space.inputShape, runtime, timing, ops, c)).median;
  const warmEnd = performance.now() + 2000;
  while (performance.now() < warmEnd) await measure(choices[0]);
  const runs = networks.map(() => []);
  for (let round = 0; round < rounds; round++) for (let i = 0; i < networks.length; i++) runs[i].push(await measure(choices[i]));
  await L.closeRuntimes();
  space.dispose();
  return runs.map((xs) => L.summarize(xs));
}
