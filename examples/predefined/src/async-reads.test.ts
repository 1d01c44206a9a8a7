// A search must not read a tensor synchronously unless the host already has its values: tfjs'
// WebGPU backend cannot read synchronously in Node at all (a browser's does it through a canvas
// copy, which stalls the GPU), but keeps what an asynchronous read (`await t.data()`) brought back
// until the tensor changes. This guard models exactly that on the cpu backend: the host has a
// tensor's values when they were uploaded from the host (tf.tensor, tf.scalar ...) or read with
// data(); a kernel's output or an updated variable is on the device until read. Every dataSync,
// arraySync or bufferSync of a tensor the host does not have is recorded with where it came from.
// The searches run as in predefined.test.ts (tiny sizes), checkpoints and exports included.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '@modnas/core';
import { prepareExperiment, runExperiment } from '@modnas/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDUCED, tiny } from './tiny.js';

const here = (f: string) => fileURLToPath(new URL(`../${f}`, import.meta.url));

/** The sync reads of tensors the host did not have: where each came from, and how often. */
const violations = new Map<string, number>();
const onHost = new WeakSet<object>();
const undo: Array<() => void> = [];

function patch<T extends object, K extends keyof T>(obj: T, key: K, make: (inner: T[K]) => T[K]): void {
  const inner = obj[key];
  obj[key] = make(inner);
  undo.push(() => {
    obj[key] = inner;
  });
}

beforeAll(() => {
  type AnyFn = (...a: unknown[]) => unknown;
  const engine = tf.engine() as unknown as { makeTensor: AnyFn };
  patch(engine, 'makeTensor', (inner) => (...a: unknown[]) => {
    const t = inner.apply(engine, a) as tf.Tensor;
    onHost.add(t.dataId);
    return t;
  });
  const proto = tf.Tensor.prototype as unknown as Record<string, AnyFn>;
  patch(proto, 'data', (inner) =>
    async function (this: tf.Tensor, ...a: unknown[]) {
      const v = await inner.apply(this, a);
      onHost.add(this.dataId);
      return v;
    },
  );
  for (const m of ['dataSync', 'arraySync', 'bufferSync']) {
    patch(proto, m, (inner) =>
      function (this: tf.Tensor, ...a: unknown[]) {
        if (!onHost.has(this.dataId)) {
          const at = (new Error().stack ?? '')
            .split('\n')
            .slice(2)
            .map((l) => l.trim())
            .filter((l) => !l.includes('tfjs-core') && !l.includes('async-reads.test'))
            .slice(0, 3)
            .join(' <- ');
          violations.set(at, (violations.get(at) ?? 0) + 1);
        }
        return inner.apply(this, a);
      },
    );
  }
});

afterAll(() => {
  for (const u of undo.reverse()) u();
});

describe('a search reads only what the host already has (what tfjs-webgpu in Node can do)', () => {
  it('the guard sees a sync read of a kernel output, and none of an uploaded or async-read tensor', async () => {
    violations.clear();
    const up = tf.tensor1d([1, 2]);
    up.dataSync();
    const out = tf.add(up, 1);
    expect(violations.size).toBe(0);
    out.dataSync();
    expect(violations.size).toBe(1);
    const out2 = tf.mul(up, 2);
    await out2.data();
    out2.dataSync();
    expect(violations.size).toBe(1);
    tf.dispose([up, out, out2]);
    violations.clear();
  });

  const runs: Array<[string, string, string[]]> = [
    ['the quickstart (ProxylessNAS: BinGate, BinaryGateOptim)', 'examples/quickstart/search.yaml', []],
    ...(['mbv2', 'darts', 'spos', 'ps'] as const).map((n): [string, string, string[]] => [`predefined ${n}`, here(`native/${n}.yaml`), REDUCED[n]?.native ?? []]),
  ];
  for (const [what, file, extra] of runs) {
    it(`${what}: search, checkpoints and export`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'modnas-async-reads-'));
      const config = file.startsWith('examples/') ? fileURLToPath(new URL(`../../../${file}`, import.meta.url)) : file;
      const overrides = file.startsWith('examples/') ? [`output_dir=${out}`, 'quick=true', 'data_provider.train_size=64', 'data_provider.valid_size=32'] : [...tiny(out), ...extra];
      const { plan } = await prepareExperiment([config], overrides);
      violations.clear();
      await runExperiment(plan);
      expect([...violations].map(([at, n]) => `${n}x ${at}`)).toEqual([]);
    });
  }
});
