/**
 * Opening a store: the one a store component made for an experiment folder (checked against the
 * contract), and the one a folder already has, whichever installed store plugin wrote it (report,
 * export, the dashboard). The registry must hold the discovered plugins.
 */
import type { Registry } from '@modnas/core';
import { ModnasError } from '@modnas/core';
import type { ExperimentStore, StoreFactory } from './contract.js';
import { isExperimentStore, isStoreFactory } from './contract.js';

/**
 * The store that what a store component's create() returned gives for an experiment folder: a
 * StoreFactory's, opened there, or the ExperimentStore itself; a coded error when it is not one.
 */
export function experimentStoreOf(made: unknown, where: { dir: string; experiment: string }, id: string): ExperimentStore {
  const opened = isStoreFactory(made) ? made.open(where) : made;
  if (!isExperimentStore(opened)) {
    throw new ModnasError('MODNAS_E_STORE_CONTRACT', `the store ${id} does not implement ExperimentStore (runs, insertRun, transaction, saveCheckpoint, ...)`, {
      fix: `implement the ExperimentStore interface of @modnas/services in ${id}, or use store: { type: SqliteStore }`,
      where: 'store.type',
    });
  }
  return opened;
}

/** The StoreFactory a store component makes with its default options (undefined: it makes none, or its defaults do not parse). */
async function defaultStoreFactory(registry: Registry, id: string): Promise<StoreFactory | undefined> {
  const def = await registry.resolve('store', id);
  const parsed = def.schema.safeParse({});
  if (!parsed.success) return undefined;
  const made = (await def.create(parsed.data, undefined as never, undefined)) as unknown;
  return isStoreFactory(made) ? made : undefined;
}

/** The ids of the store components installed and not broken, in the registry's order (the order folders are asked in). */
const storeIds = (registry: Registry): string[] => registry.list().filter((r) => r.kind === 'store' && r.status !== 'broken').map((r) => r.id);

/**
 * The store an experiment folder already has, opened read-only, whichever installed store plugin
 * wrote it; undefined when the folder has none.
 */
export async function openExistingStore(dir: string, registry: Registry): Promise<ExperimentStore | undefined> {
  for (const id of storeIds(registry)) {
    const found = (await defaultStoreFactory(registry, id))?.existing?.(dir);
    if (found) return found;
  }
  return undefined;
}

/**
 * The factory of every installed store plugin that can find a folder's store (`existing`), made
 * once, in the order openExistingStore asks them; a plugin that does not load is left out (plugins
 * doctor reports it). For a reader that reopens many folders' stores (the dashboard).
 */
export async function existingStoreFactories(registry: Registry): Promise<StoreFactory[]> {
  const out: StoreFactory[] = [];
  for (const id of storeIds(registry)) {
    try {
      const factory = await defaultStoreFactory(registry, id);
      if (factory?.existing) out.push(factory);
    } catch {
      // left out: the others still read their folders
    }
  }
  return out;
}
