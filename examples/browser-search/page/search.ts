/**
 * The search the page runs, without the page: the quickstart's config (examples/quickstart/search.yaml,
 * embedded by build.mjs) with a budget a tab can afford, the plugins it names registered by import (no
 * discovery), the tensor backend (WebGPU with @modnas's training kernels, else tfjs' webgl, else cpu),
 * runtime's search in memory, and the found network encoded as ONNX with its modnas.json.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import type { EventBus, Logger, ProgressReporter } from '@modnas/core';
import { ModnasError, Registry, readVariables, tf } from '@modnas/core';
import type { JsonObject } from '@modnas/config';
import { validateExperiment, withDefaults } from '@modnas/config';
import { registerWebGpuKernels } from '@modnas/engine-webgpu/kernels';
import { evaluate } from '@modnas/kit-estim';
import type { EncodedModel } from '@modnas/model-export';
import { chooseSubnetwork, encodeGraph, inferenceGraph } from '@modnas/model-export';
import type { InMemoryRun } from '@modnas/runtime';
import { runInMemory } from '@modnas/runtime';
import backbone from '@modnas/backbone-mobilenetv2';
import mnist from '@modnas/dataset-mnist';
import estimDefault from '@modnas/estim-default';
import estimSupernet from '@modnas/estim-supernet';
import exportSlot from '@modnas/export-slot-traversal';
import loss from '@modnas/loss-default';
import binGate from '@modnas/mixed-op-bingate';
import optimBinaryGate from '@modnas/optim-binary-gate';
import basic from '@modnas/primitive-basic';
import mbconv from '@modnas/primitive-mbconv';
import trainer from '@modnas/trainer-default';

/** The quickstart's search.yaml, as build.mjs embedded it. */
declare const QUICKSTART: JsonObject;

export type BackendName = 'webgpu' | 'webgl' | 'cpu';

/**
 * Budgets: `tab` (the default: the quickstart's trainer on half its images, 1 + 2 epochs instead of
 * 2 + 3), `test` (the CI test's: two steps of each estimator, on SwiftShader's emulated GPU).
 */
export const BUDGETS = {
  tab: { data_provider: { train_portion: 0.5, train_size: 4096, valid_size: 1024 }, warmup: 1, search: 2, batch: 16, warmup_steps: 100 },
  test: { data_provider: { train_portion: 0.5, train_size: 64, valid_size: 32 }, warmup: 1, search: 1, batch: 32, warmup_steps: 0 },
} as const;
export type Budget = keyof typeof BUDGETS;

/** The quickstart config with a budget: its space, data and optimizer as they are; the image files beside the page. */
export function searchConfig(budget: Budget): JsonObject {
  const b = BUDGETS[budget];
  const q = QUICKSTART as Record<string, JsonObject> & { estim: Record<string, JsonObject> };
  return {
    ...q,
    name: `browser-${budget}`,
    data: { ...q.data, path: 'mnist/' },
    data_provider: { ...b.data_provider },
    trainer: { ...q.trainer, batch_size: b.batch, warmup_steps: b.warmup_steps },
    estim: { warmup: { ...q.estim.warmup, epochs: b.warmup }, search: { ...q.estim.search, epochs: b.search } },
  };
}

export function registry(): Registry {
  const r = new Registry();
  for (const p of [mnist, backbone, basic, mbconv, binGate, trainer, loss, optimBinaryGate, estimDefault, estimSupernet, exportSlot]) r.register(p);
  return r;
}

/**
 * The fastest backend this browser has: WebGPU (with @modnas's kernels), else webgl, else cpu;
 * `want` forces one, and fails with a coded error when it cannot start. Returns it and the adapter's name.
 */
export async function chooseBackend(want?: BackendName): Promise<{ backend: BackendName; adapter: string; tried: string[] }> {
  registerWebGpuKernels(tf);
  const tried: string[] = [];
  const order: BackendName[] = want ? [want] : ['webgpu', 'webgl', 'cpu'];
  for (const name of order) {
    if (name === 'webgpu' && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
      tried.push('webgpu: this browser has no WebGPU (navigator.gpu)');
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { backend: name, adapter: await adapterName(name), tried };
      }
      tried.push(`${name}: did not start`);
    } catch (e) {
      tried.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new ModnasError('MODNAS_E_BACKEND', `no tensor backend could start (${tried.join('; ')})`, { fix: 'use a browser with WebGPU or WebGL (current Chrome, Edge, Firefox or Safari), or ?backend=cpu', where: '?backend' });
}

async function adapterName(backend: BackendName): Promise<string> {
  if (backend !== 'webgpu') return backend;
  const b = tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; description?: string } };
  const info = b.adapterInfo;
  return [info?.vendor, info?.architecture, info?.description].filter((s) => s).join(' ') || 'unknown adapter';
}

export interface SearchOutcome {
  run: InMemoryRun;
  /** The found architecture, as the config's exporter wrote it. */
  arch: unknown;
  /** Validation accuracy of the chosen subnetwork (each mixed op its best candidate). */
  accuracy: number;
  onnx: EncodedModel;
  /**
   * The first images of the validation split and the logits the found network gives them on the
   * search's backend and, after the weights moved to it for the export, on cpu: what a downloaded
   * model must reproduce.
   */
  probe: { images: number[]; shape: number[]; logits: number[]; cpuLogits: number[] };
}

export interface SearchHooks {
  logger: Logger;
  events: EventBus;
  progress?: ProgressReporter;
  signal?: AbortSignal;
}

/** Validate, search, then choose the subnetwork, measure it and encode it as ONNX. */
export async function search(budget: Budget, backend: string, hooks: SearchHooks): Promise<SearchOutcome> {
  const reg = registry();
  const plan = await validateExperiment(withDefaults(searchConfig(budget)), { registry: reg, where: 'the page\'s config' });
  const run = await runInMemory(plan, { registry: reg, logger: hooks.logger, events: hooks.events, progress: hooks.progress, signal: hooks.signal });
  const last = Object.values(run.estims).pop();
  const restore = chooseSubnetwork(run.model, hooks.logger);
  try {
    const accuracy = run.trainer ? (await evaluate(run.model, run.trainer, run.data.valid)).acc : Number.NaN;
    hooks.logger.info(`chosen subnetwork: validation accuracy ${(accuracy * 100).toFixed(2)}% on ${run.data.valid.size} images`);
    // logits of the first validation images on the search's backend, read without blocking it
    const [first] = run.data.valid.batches(8);
    run.model.eval();
    const onBackend = run.model.call(first.x);
    const images = Array.from(await first.x.data() as Float32Array);
    const shape: number[] = [...first.x.shape];
    const logits = Array.from(await onBackend.data());
    tf.dispose([first.x, first.y, onBackend]);
    // Tracing reads weights synchronously, which WebGPU cannot do in a page: read every variable
    // asynchronously (the backend keeps the values), then trace on the cpu backend, which takes them over.
    await readVariables();
    await tf.setBackend('cpu');
    const example = tf.tensor4d(images, shape as [number, number, number, number]);
    const onCpu = run.model.call(example);
    const cpuLogits = Array.from(onCpu.dataSync());
    const graph = inferenceGraph(run.model, example);
    tf.dispose([example, onCpu]);
    const probe = { images, shape, logits, cpuLogits };
    const onnx = encodeGraph(graph, 'onnx', {
      classes: run.dataset?.classes,
      preprocess: run.dataset?.preprocess ?? null,
      architecture: { model: 'MobileNetV2', arch: last?.best?.arch, weights: run.model.numParams() },
      metrics: { test_accuracy: accuracy, test_size: run.data.valid.size, split: 'valid' },
      experiment: { name: run.name, run: run.run, kind: 'search', dataset: run.dataset?.name ?? '', backend },
    });
    return { run, arch: last?.exports.default, accuracy, onnx, probe };
  } finally {
    restore();
  }
}
