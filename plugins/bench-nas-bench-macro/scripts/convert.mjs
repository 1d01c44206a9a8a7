#!/usr/bin/env node
// Convert NAS-Bench-Macro once into the package's compact data file (run after build):
//   node scripts/convert.mjs <path of nas-bench-macro_cifar10.json>
// Rows in mixed-radix order of the arch code (layer 0 is the least significant digit), so that
// row = sum_i digit_i * 3^i. Test accuracies are rounded to 2 decimals: CIFAR-10 has 10,000 test
// images, so every accuracy is a multiple of 0.01 % and the longer decimals are float32 noise.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTable } from '@modnas/kit-tabular';

const here = fileURLToPath(new URL('..', import.meta.url));
const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/convert.mjs <nas-bench-macro_cifar10.json>');
  process.exit(2);
}
const fail = (msg) => {
  console.error(`convert: ${msg}`);
  process.exit(1);
};
const src = JSON.parse(readFileSync(file, 'utf8'));
const LAYERS = 8;
const ROWS = 3 ** LAYERS;
if (Object.keys(src).length !== ROWS) fail(`expected ${ROWS} architectures, got ${Object.keys(src).length}`);
const cols = { test_acc_0: [], test_acc_1: [], test_acc_2: [], mean_acc: [], std: [], params: [], flops: [] };
for (const c of Object.keys(cols)) cols[c] = new Array(ROWS).fill(NaN);
for (const [code, r] of Object.entries(src)) {
  if (!/^[012]{8}$/.test(code)) fail(`bad arch code ${code}`);
  const row = [...code].reduce((acc, d, i) => acc + Number(d) * 3 ** i, 0);
  if (!Array.isArray(r.test_acc) || r.test_acc.length !== 3) fail(`${code}: test_acc is not 3 numbers`);
  r.test_acc.forEach((a, s) => (cols[`test_acc_${s}`][row] = Math.round(a * 100) / 100));
  cols.mean_acc[row] = r.mean_acc;
  cols.std[row] = r.std;
  cols.params[row] = r.params;
  cols.flops[row] = r.flops;
}
for (const [c, v] of Object.entries(cols)) if (v.some((x) => !Number.isFinite(x))) fail(`column ${c} has holes`);
let best = 0;
cols.mean_acc.forEach((v, i) => (v > cols.mean_acc[best] ? (best = i) : 0));
const codeOf = (row) => Array.from({ length: LAYERS }, (_, i) => Math.floor(row / 3 ** i) % 3).join('');
if (codeOf(best) !== '22212220' || cols.mean_acc[best].toFixed(3) !== '93.127') fail(`unexpected optimum ${codeOf(best)} ${cols.mean_acc[best]}`);
console.log(`ok optimum ${codeOf(best)} mean_acc ${cols.mean_acc[best].toFixed(3)}`);

writeTable(join(here, 'data', 'nas-bench-macro.json.gz'), {
  meta: {
    benchmark: 'NAS-Bench-Macro, CIFAR-10 (Su et al., "Prioritized Architecture Sampling with Monto-Carlo Tree Search", CVPR 2021)',
    source: { repo: 'github.com/xiusu/NAS-Bench-Macro', commit: '61a2bfc2ca0dce04d0997e6cf498047c27d6acf2', path: 'data/nas-bench-macro_cifar10.json', license: 'Apache-2.0, Copyright 2021 Xiu Su (see data/LICENSE-NAS-Bench-Macro)' },
    changes: 'reordered by arch code (row = sum_i digit_i * 3^i, layer 0 least significant); test accuracies rounded to 2 decimals; columns split',
    row: 'arch code digits: 0 = identity, 1 = MobileNetV2 block kernel 3 expansion 3, 2 = kernel 5 expansion 6',
    columns: {
      test_acc_0: 'CIFAR-10 test accuracy (%), training run 1',
      test_acc_1: 'training run 2',
      test_acc_2: 'training run 3',
      mean_acc: 'mean of the three runs (as published)',
      std: 'standard deviation of the three runs (as published)',
      params: 'parameters',
      flops: 'FLOPs',
    },
  },
  rows: ROWS,
  columns: cols,
});
console.log('wrote data/nas-bench-macro.json.gz');
