import { isModnasError } from '@modnas/core';
import type { AnyComponentDef, Registry } from '@modnas/core';
import type { Json, JsonObject } from './merge.js';
import { isObject } from './merge.js';

/** The estimator that trains a fixed network. */
const PLAIN_ESTIMATOR = 'DefaultEstimator';

export interface TrainingOptions {
  /** The architecture to train: its YAML/JSON file, or the description itself. */
  archDesc: Json;
  /** Epochs of the plain training estimator that replaces search estimators (default: the config's largest `epochs`). */
  epochs?: number;
}

const isEmptyChain = (c: Json | undefined): boolean => c === undefined || c === null || (Array.isArray(c) ? c.length === 0 : isObject(c) && Object.keys(c).length === 0);

const chain = (c: Json | undefined): Array<[string, Json]> => (Array.isArray(c) ? c.map((s, i) => [String(i), s]) : isObject(c) ? Object.entries(c) : []);

const typeOf = (spec: Json): string | undefined => (typeof spec === 'string' ? spec : isObject(spec) && typeof spec.type === 'string' ? spec.type : undefined);

async function resolveDef(registry: Registry, kind: 'construct' | 'exporter' | 'estim', type: string): Promise<AnyComponentDef | undefined> {
  try {
    return await registry.resolve(kind, type);
  } catch (e) {
    // The seed's shorthand: a construct entry that names a mixed op is DefaultMixedOpConstructor.
    if (kind === 'construct' && isModnasError(e) && e.code === 'MODNAS_E_REGISTRY_KIND' && (await registry.resolve('mixed-op', type).catch(() => undefined))) {
      return registry.resolve('construct', 'DefaultMixedOpConstructor').catch(() => undefined);
    }
    return undefined; // validation reports unknown ids with their paths
  }
}

/**
 * Turn a search config into the training of one architecture it found (`modnas train <search
 * config> --arch <file>`, a VEGA TrainPipeStep): build the network from the description with the
 * config's desc_construct, or, when it names none, with the arch-desc constructor that the search
 * space's constructor (else its exporter) declares; train it with a plain DefaultEstimator in place
 * of the search estimators, without a search optimizer, on the whole training split. Each change
 * is returned as a note for the log. A config that already only trains is left as it is.
 */
export async function toTrainingConfig(raw: JsonObject, opts: TrainingOptions, registry: Registry): Promise<{ config: JsonObject; notes: string[] }> {
  const out: JsonObject = { ...raw, arch_desc: opts.archDesc };
  const notes: string[] = [];

  if (isEmptyChain(out.desc_construct)) {
    const found = await matchingDescConstructor(out, registry);
    if (found) {
      out.desc_construct = { arch_desc: { type: found.id } };
      notes.push(`desc_construct: ${found.id}, the arch-desc constructor of ${found.by} (set desc_construct to choose another)`);
    }
  }

  const estims = isObject(out.estim) ? Object.entries(out.estim) : [];
  let searches = false;
  const replaced: string[] = [];
  for (const [name, spec] of estims) {
    const type = typeOf(spec);
    const def = type ? await resolveDef(registry, 'estim', type) : undefined;
    if (def?.id !== PLAIN_ESTIMATOR) searches = true;
    replaced.push(`${name} (${def?.id ?? type ?? '?'})`);
  }
  if (estims.length === 0 || searches) {
    const epochs = opts.epochs ?? Math.max(1, ...estims.map(([, s]) => (isObject(s) && typeof s.epochs === 'number' ? s.epochs : isObject(s) && isObject(s.args) && typeof s.args.epochs === 'number' ? s.args.epochs : 0)));
    out.estim = { train: { type: PLAIN_ESTIMATOR, epochs } };
    notes.push(
      replaced.length
        ? `estim: a plain ${PLAIN_ESTIMATOR} "train" (${epochs} epoch${epochs === 1 ? '' : 's'}) in place of the search's estimators ${replaced.join(', ')} (change with -o estim.train.epochs=N)`
        : `estim: a plain ${PLAIN_ESTIMATOR} "train" (${epochs} epoch${epochs === 1 ? '' : 's'})`,
    );
    if (out.optim !== undefined) {
      delete out.optim;
      notes.push('optim: left out (a fixed network has no architecture to search)');
    }
    const dp = isObject(out.data_provider) ? out.data_provider : {};
    if (typeof dp.train_portion !== 'number' || dp.train_portion < 1) {
      out.data_provider = { ...dp, train_portion: 1 };
      notes.push('data_provider.train_portion: 1 (train on the whole training split, validate on the test split)');
    }
    const name = typeof out.name === 'string' ? out.name : 'default';
    out.name = `${name}-train`;
    notes.push(`name: ${name}-train (the search's folder is left as it is)`);
  }
  return { config: out, notes };
}

/** The arch-desc constructor declared by the last constructor of the search chain that declares one, else by the first exporter. */
async function matchingDescConstructor(cfg: JsonObject, registry: Registry): Promise<{ id: string; by: string } | undefined> {
  for (const [k, spec] of chain(cfg.construct).reverse()) {
    const type = typeOf(spec);
    const def = type ? await resolveDef(registry, 'construct', type) : undefined;
    if (def?.archDescConstructor) return { id: def.archDescConstructor, by: `${def.id} (construct.${k})` };
  }
  const exporters = isObject(cfg.export) ? Object.entries(cfg.export) : [];
  // withDefaults gives a model the Slot exporter.
  if (exporters.length === 0 && cfg.model !== undefined) exporters.push(['default', { type: 'DefaultSlotTraversalExporter' }]);
  for (const [k, spec] of exporters) {
    const type = typeOf(spec);
    const def = type ? await resolveDef(registry, 'exporter', type) : undefined;
    if (def?.archDescConstructor) return { id: def.archDescConstructor, by: `${def.id} (export.${k})` };
  }
  return undefined;
}
