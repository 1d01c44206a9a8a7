#!/usr/bin/env node
// How many of the original ModularNAS's registered names resolve here (issue 27). The names are
// data (names.json, made once by extract.py from the original's source with PyTorch installed);
// what resolves is asked of the installed plugins as a user would (`modnas plugins list --json`,
// names compared as the original's registry compares them: case, '_' and '-' ignored) and, for the
// names the original's trainer takes as values (its optimizer, lr_scheduler and criterion), of the
// original-format translation (@modnas/config-original): a name is covered when a trainer spec
// naming it translates without an error; its data, data_loader and data_provider names when the
// translation takes them there (and makes a dataset of this tool of them); the original's layer_def
// names (mergers, allocators, enumerators) are covered when DAGLayer's config takes them
// (@modnas/primitive-dag-layer), its model_optim names when ModelBasedOptim's does. Names
// tied to PyTorch itself (or registered by accident) are listed in excluded.json with the reason,
// and left out of the figure.
//   node scripts/original-names/coverage.mjs [--missing]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** The original's registry paths, and the kinds whose ids stand for them here. */
export const KINDS_OF_PATH = {
  arch_space: ['mixed-op', 'primitive', 'backbone'],
  construct: ['construct'],
  optim: ['optim'],
  estim: ['estim'],
  export: ['exporter'],
  callback: ['callback'],
  metrics: ['metrics'],
  trainer: ['trainer'],
  dataset: ['dataset'],
  data_provider: [],
  data_loader: [],
  criterion: ['loss'],
  params: ['params'],
  layer_def: ['layer'],
  model_optim: [],
  score_model: ['score-model'],
  dist_remote: ['executor'],
};
/** The original's trainer takes these as values of its own keys: probed through the translation. */
const TRAINER_VALUE = { optimizer: 'optimizer', lr_scheduler: 'lr_scheduler', criterion: 'criterion' };

const loose = (s) => s.toLowerCase().replace(/[_-]/g, '');

export function readNames() {
  return JSON.parse(readFileSync(join(here, 'names.json'), 'utf8'));
}

export function readExcluded() {
  return JSON.parse(readFileSync(join(here, 'excluded.json'), 'utf8'));
}

/** Every first-party id and alias by kind, from the manifests (`modnas plugins list --json`). */
export function installedNames() {
  const out = execFileSync(process.execPath, [join(root, 'packages/cli/dist/bin.js'), 'plugins', 'list', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const byKind = new Map();
  for (const p of JSON.parse(out).plugins) {
    if (!p.package.startsWith('@modnas/')) continue; // examples and third-party plugins do not count
    const set = byKind.get(p.kind) ?? new Set();
    for (const n of [p.id, ...p.aliases]) set.add(loose(n));
    byKind.set(p.kind, set);
  }
  return byKind;
}

/** Whether the original-format translation takes `name` as the trainer's `key`. */
async function trainerTakes(key, name) {
  const { mapOriginalFormat } = await import(join(root, 'packages/config-original/dist/index.js'));
  const doc = { model: { type: 'CIFAR_MobileNetV2' }, trainer: { default: { type: 'DefaultTrainer', args: { [key]: { type: name } } } } };
  try {
    mapOriginalFormat(doc, 'probe.yaml');
    return true;
  } catch (e) {
    if (e?.code !== 'MODNAS_E_CONFIG_ORIGINAL') throw e;
    return false;
  }
}

/**
 * Whether DAGLayer's config (@modnas/primitive-dag-layer) takes `name` as a layer_def: the original's
 * mergers, allocators and enumerators are values of its keys here, not components.
 */
async function dagLayerTakes(name) {
  const { LAYER_DEFS, dagLayer } = await import(join(root, 'plugins/primitive-dag-layer/dist/index.js'));
  if (!LAYER_DEFS.some((n) => loose(n) === loose(name))) return false;
  return ['merger_state', 'allocator', 'enumerator'].some((key) => dagLayer.schema.safeParse({ [key]: name }).success);
}

/** Whether the original-format translation takes `name` at `key` of a file (data, data_loader, data_provider) and, for data, makes a dataset of this tool of it. */
async function dataTakes(key, name, datasets) {
  const { mapOriginalFormat } = await import(join(root, 'packages/config-original/dist/index.js'));
  // args each of the original's dataset functions needs (ImageClsData a dataset name, RandData a spec); the others are ignored with a note
  const args = key === 'data' ? { dataset: 'mnist', data_spec: [[[3, 8, 8], 'float', null], [[], 'int', [0, 2]]] } : {};
  const doc = { model: { type: 'CIFAR_MobileNetV2' }, [key]: { type: name, args } };
  try {
    const { config } = mapOriginalFormat(doc, 'probe.yaml');
    return key !== 'data' || datasets.has(loose(String(config.data?.type)));
  } catch (e) {
    if (e?.code !== 'MODNAS_E_CONFIG_ORIGINAL') throw e;
    return false;
  }
}
const DATA_KEY = { dataset: 'data', data_loader: 'data_loader', data_provider: 'data_provider' };

/** Whether ModelBasedOptim (@modnas/optim-model-based) takes `name` as its model_optim_config: the original's model optimizers are values of its key here, not components. */
async function modelBasedTakes(name) {
  const { MODEL_OPTIMS } = await import(join(root, 'plugins/optim-model-based/dist/index.js'));
  return MODEL_OPTIMS.some((n) => loose(n) === loose(name));
}

export async function coverage() {
  const { names } = readNames();
  const excluded = readExcluded();
  const excludedKey = new Set(excluded.map((e) => `${e.path}.${e.id}`));
  const byKind = installedNames();
  const rows = [];
  for (const n of names) {
    if (excludedKey.has(`${n.path}.${n.id}`)) continue;
    let covered = false;
    if (n.path in TRAINER_VALUE) covered = await trainerTakes(TRAINER_VALUE[n.path], n.id);
    if (n.path === 'layer_def') covered = await dagLayerTakes(n.id);
    if (n.path === 'model_optim') covered = await modelBasedTakes(n.id);
    if (n.path in DATA_KEY) covered = await dataTakes(DATA_KEY[n.path], n.id, byKind.get('dataset') ?? new Set());
    if (!covered) covered = (KINDS_OF_PATH[n.path] ?? []).some((k) => byKind.get(k)?.has(loose(n.id)));
    rows.push({ ...n, covered });
  }
  const covered = rows.filter((r) => r.covered).length;
  const byPath = {};
  for (const r of rows) {
    const b = (byPath[r.path] ??= { covered: 0, total: 0 });
    b.total++;
    if (r.covered) b.covered++;
  }
  return { total: names.length, excluded: excluded.length, counted: rows.length, covered, ratio: covered / rows.length, byPath, rows };
}

export function format(c, { missing = false } = {}) {
  const lines = [`the original ModularNAS's registered names: ${c.covered} of ${c.counted} resolve here (${(100 * c.ratio).toFixed(1)}%); ${c.excluded} of its ${c.total} names are left out, tied to PyTorch itself or not a component (excluded.json says why)`];
  for (const [p, b] of Object.entries(c.byPath).sort((a, b) => b[1].total - a[1].total)) lines.push(`  ${p.padEnd(14)} ${String(b.covered).padStart(3)} / ${b.total}`);
  if (missing) lines.push('missing:', ...c.rows.filter((r) => !r.covered).map((r) => `  ${r.path}.${r.id}`));
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(format(await coverage(), { missing: process.argv.includes('--missing') }));
}
