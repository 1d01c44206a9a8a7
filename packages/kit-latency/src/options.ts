/** The options every latency measurement takes (the metrics components and BinaryGateOptim's latency term share them). */
import { z } from '@modnas/core';
import type { LatencyRuntime } from './runtimes.js';
import { LATENCY_TARGETS, openRuntime } from './runtimes.js';
import type { LatencyTable } from './table.js';
import { LatencyCache, buildLatencyTable, defaultCacheDir } from './table.js';
import type { Module, Logger } from '@modnas/core';
import type { Timing } from './timing.js';
import { timingFields } from './timing.js';

export const latencyTargetFields = {
  target: z.enum(LATENCY_TARGETS).default('engine').describe('Where the latency is measured: engine (this process\'s tensor engine), onnxruntime-node, or in headless Chromium: tfjs-wasm, tfjs-webgl, onnxruntime-web'),
  ...timingFields,
  threads: z.number().int().positive().default(1).describe('Threads of onnxruntime-node and onnxruntime-web (1: what a page without cross-origin isolation gets)'),
  browser: z.string().min(1).nullable().default(null).describe('Chromium executable for the browser targets (null: MODNAS_CHROMIUM, /usr/bin/chromium, then Playwright\'s own)'),
};

export const latencyTableFields = {
  ...latencyTargetFields,
  rounds: z.number().int().positive().default(5).describe('Round-robin passes over the table\'s networks; each latency is the median of its rounds'),
  cache: z.union([z.string().min(1), z.literal(false)]).nullable().default(null).describe('Folder of measured entries reused across experiments (null: $XDG_CACHE_HOME/modnas/latency or ~/.cache/modnas/latency; false: none)'),
};

export const latencyTableSchema = z.strictObject(latencyTableFields);
export type LatencyTableConfig = z.output<typeof latencyTableSchema>;
export type LatencyTargetConfig = Pick<LatencyTableConfig, keyof typeof latencyTargetFields>;

export function timingOf(c: LatencyTargetConfig): Timing {
  return { batch_size: c.batch_size, warmup: c.warmup, rep: c.rep, min_sample_ms: c.min_sample_ms };
}

export function runtimeOf(c: LatencyTargetConfig): Promise<LatencyRuntime> {
  return openRuntime(c.target, { threads: c.threads, browser: c.browser ?? undefined });
}

/** Build (or complete from the cache) the latency table of a model on the configured target. */
export async function tableFor(model: Module, inputShape: readonly number[], c: LatencyTableConfig, opts: { logger?: Logger } = {}): Promise<LatencyTable> {
  const runtime = await runtimeOf(c);
  const timing = timingOf(c);
  const cache = new LatencyCache(c.cache === false ? false : (c.cache ?? defaultCacheDir()), await runtime.info(), timing);
  return buildLatencyTable(model, inputShape, runtime, { timing, rounds: c.rounds, cache, logger: opts.logger });
}
