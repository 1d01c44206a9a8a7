#!/usr/bin/env node
// How many of the original ModularNAS's registered names resolve here (issue 27). The names are
// data (names.json, made once by extract.py from the original's source with PyTorch installed);
// what resolves is asked of the installed plugins as a user would (`modnas plugins list --json`,
// names compared as the original's registry compares them: case, '_' and '-' ignored) and, for the
// names the original's trainer takes as values (its optimizer, lr_scheduler and criterion), of the
// original-format translation (@modnas/config-original): a name is covered when a trainer spec
// naming it translates without an error. Names tied to PyTorch itself (or registered by accident) are listed in excluded.json
// with the reason, and left out of the figure.
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
  data_provider: ['dataset'],
  data_loader: ['dataset'],
  criterion: ['loss'],
  params: ['params'],
  layer_def: ['layer'],
  model_optim: ['model-optim'],
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
