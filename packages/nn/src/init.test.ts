import type { tf } from '@modnas/core';
import { describe, expect, it } from 'vitest';
import { BatchNorm2d, Conv2d, Linear } from './index.js';

// Default initialisation is PyTorch's: kaiming_uniform(a=sqrt(5)) weights = uniform(±1/sqrt(fan_in)),
// biases uniform(±1/sqrt(fan_in)), batch norm 1 / 0 with running statistics 0 / 1.

/** Every value inside ±bound, and the spread of uniform(±bound): std bound/sqrt(3), max near bound. */
function expectUniform(t: tf.Tensor, bound: number): void {
  const v = Array.from(t.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  const max = Math.max(...v.map(Math.abs));
  expect(max).toBeLessThanOrEqual(bound);
  expect(max).toBeGreaterThan(0.9 * bound);
  expect(std / (bound / Math.sqrt(3))).toBeGreaterThan(0.9);
  expect(std / (bound / Math.sqrt(3))).toBeLessThan(1.1);
  expect(Math.abs(mean)).toBeLessThan(0.1 * bound);
}

describe('default initialisation (PyTorch)', () => {
  it('Conv2d: fan_in = chnIn * k * k', () => {
    const c = new Conv2d(16, 64, { kernelSize: 3, bias: true });
    expectUniform(c.weight, 1 / Math.sqrt(16 * 9));
    expectUniform(c.bias!, 1 / Math.sqrt(16 * 9));
    c.dispose();
  });

  it('depthwise Conv2d: fan_in = k * k (one input channel per group)', () => {
    const c = new Conv2d(256, 256, { kernelSize: 5, groups: 256, bias: true });
    expect(c.weight.shape).toEqual([5, 5, 256, 1]);
    expectUniform(c.weight, 1 / 5);
    expectUniform(c.bias!, 1 / 5);
    c.dispose();
  });

  it('Conv2d has no bias unless asked', () => {
    const c = new Conv2d(4, 4);
    expect(c.bias).toBeUndefined();
    c.dispose();
  });

  it('Linear: fan_in = inFeatures', () => {
    const l = new Linear(100, 200);
    expect(l.weight.shape).toEqual([100, 200]);
    expectUniform(l.weight, 1 / 10);
    expectUniform(l.bias!, 1 / 10);
    l.dispose();
  });

  it('BatchNorm2d: weight 1, bias 0, running mean 0, running variance 1', () => {
    const bn = new BatchNorm2d(3);
    expect(Array.from(bn.gamma!.dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(bn.beta!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(bn.runningMean.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(bn.runningVar.dataSync())).toEqual([1, 1, 1]);
    bn.dispose();
  });
});
