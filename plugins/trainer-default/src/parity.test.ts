import { readFileSync } from 'node:fs';
import { tf } from '@modnas/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParityManifest } from '../test/parity.js';
import { LOSS_TOL, parityFailures, runParity } from '../test/parity.js';

// Learning parity with PyTorch (the harness, test/parity.ts, says what is compared), on tfjs' cpu
// backend and on the engine vitest.setup.ts selected. @modnas/engine-webgpu runs the same harness
// on WebGPU in Chromium.

const dir = new URL('../../../bench/reference/parity/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('parity.json', dir), 'utf8')) as ParityManifest;
const bin = readFileSync(new URL('parity.bin', dir));
const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));

// The tfjs cpu backend, and the default engine that vitest.setup.ts selected (the wasm engine
// where it sets up on this machine).
const defaultBackend = tf.getBackend();
const backends: Array<{ name: string; skip?: string }> = [
  { name: 'cpu' },
  { name: defaultBackend, skip: defaultBackend === 'cpu' ? 'the default engine did not set up here, so the default backend is cpu (tested above)' : undefined },
];

describe('the fixture', () => {
  it('is PyTorch learning, with little float32 noise of its own', () => {
    const n = manifest.epochs * manifest.steps_per_epoch;
    expect(manifest.losses).toHaveLength(n);
    expect(n).toBeGreaterThanOrEqual(50);
    // the loss falls, so the run is training and not sitting still
    expect(manifest.losses.slice(-10).reduce((a, b) => a + b) / 10).toBeLessThan(manifest.losses[0] - 0.4);
    expect(Math.max(manifest.max_loss_gap_float32_vs_float64, manifest.max_loss_gap_float32_1ulp_init)).toBeLessThan(LOSS_TOL / 10);
  });
});

describe.each(backends)('learning parity with PyTorch on $name', ({ name, skip }) => {
  let before = '';
  beforeAll(async () => {
    before = tf.getBackend();
    if (!skip) await tf.setBackend(name);
  });
  afterAll(async () => {
    await tf.setBackend(before);
  });

  it.skipIf(skip !== undefined)(`${manifest.epochs * manifest.steps_per_epoch} SGD-momentum steps give PyTorch's losses, weights and BN statistics${skip ? ` (skipped: ${skip})` : ''}`, async () => {
    expect(tf.getBackend()).toBe(name);
    const r = await runParity({ manifest, floats }, () => new Promise((done) => setImmediate(done)));
    const { failures, summary } = parityFailures(r, manifest);
    console.info(`parity on ${name}: ${summary}`);
    expect(failures, failures.slice(0, 3).join('; ')).toEqual([]);
  });
});
