import { describe, expect, it } from 'vitest';
import { EventBus } from './events.js';

describe('EventBus', () => {
  it('runs handlers by priority, awaits each, and unsubscribes', async () => {
    const bus = new EventBus();
    const order: string[] = [];
    bus.on('epoch:end', async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push('low');
    });
    const off = bus.on('epoch:end', () => void order.push('high'), 10);
    bus.on('epoch:end', () => void order.push('mid'), 5);
    await bus.emit('epoch:end', { estim: 's', epoch: 0, epochs: 1, metrics: {} });
    expect(order).toEqual(['high', 'mid', 'low']);
    off();
    order.length = 0;
    await bus.emit('epoch:end', { estim: 's', epoch: 0, epochs: 1, metrics: {} });
    expect(order).toEqual(['mid', 'low']);
  });

  it('propagates a handler error to the emitter', async () => {
    const bus = new EventBus();
    bus.on('run:begin', () => {
      throw new Error('boom');
    });
    await expect(bus.emit('run:begin', { name: 'x', outputDir: '/tmp' })).rejects.toThrow('boom');
  });
});
