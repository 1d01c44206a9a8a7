import { describe, expect, it } from 'vitest';
import { isModnasError } from '@modnas/core';
import { mapOriginalFormat } from './original.js';

const MODEL = { model: { type: 'CIFAR_MobileNetV2' } };

function refused(doc: Record<string, unknown>): string {
  try {
    mapOriginalFormat({ ...MODEL, ...doc }, 'test.yaml');
  } catch (e) {
    expect(isModnasError(e) && e.code).toBe('MODNAS_E_CONFIG_ORIGINAL');
    return (e as Error).message;
  }
  throw new Error('not refused');
}

describe("the original's data, data_loader and data_provider names", () => {
  it('RandData becomes the Synthetic dataset of the same image shape, classes and size', () => {
    const m = mapOriginalFormat({ ...MODEL, data: { type: 'RandData', args: { data_spec: [[[3, 32, 32], 'float', null], [[], 'int', [0, 10]]], data_size: 256 } } }, 'test.yaml');
    expect(m.config.data).toEqual({ type: 'Synthetic', size: 256, image_size: 32, channels: 3, num_classes: 10 });
    expect(m.ignored.join('\n')).toContain('RandData');
    // the original's registry ignores case, '_' and '-'
    expect(mapOriginalFormat({ ...MODEL, data: { type: 'rand_data', data_spec: [[[1, 8, 8], 'float', null], [[], 'int', [0, 2]]] } }, 'test.yaml').config.data).toEqual({ type: 'Synthetic', size: 128, image_size: 8, channels: 1, num_classes: 2 });
  });

  it('a RandData spec this tool cannot make is refused, naming the key and the form it takes', () => {
    expect(refused({ data: { type: 'RandData', args: { data_spec: [[[3, 32, 16], 'float', null], [[], 'int', [0, 10]]] } } })).toMatch(/data\.args\.data_spec: the image shape must be \[C, H, H\]/);
    expect(refused({ data: { type: 'RandData', args: { data_spec: [[[3, 8, 8], 'float', null], [[], 'int', [1, 10]]] } } })).toMatch(/label range must be \[0, classes\]/);
    expect(refused({ data: { type: 'RandData' } })).toMatch(/expected an image spec and a label spec/);
  });

  it('DefaultDataLoader and ImageClsDataLoader are taken; another loader name is refused', () => {
    for (const type of ['DefaultDataLoader', 'ImageClsDataLoader', 'image_cls_data_loader']) {
      const m = mapOriginalFormat({ ...MODEL, data_loader: { type, args: { trn_batch_size: 32, valid_ratio: 0.25 } } }, 'test.yaml');
      expect(m.config.data_provider).toEqual({ train_portion: 0.75 });
    }
    expect(refused({ data_loader: { type: 'TorchDataLoader', args: {} } })).toMatch(/data_loader\.type: "TorchDataLoader" is not one of the original's data loaders \(DefaultDataLoader, ImageClsDataLoader\)/);
  });

  it('DefaultDataProvider is taken; another provider name is refused', () => {
    expect(mapOriginalFormat({ ...MODEL, data_provider: { type: 'DefaultDataProvider', args: { train_portion: 0.5 } } }, 'test.yaml').config.data_provider).toEqual({ train_portion: 0.5 });
    expect(refused({ data_provider: { type: 'StreamProvider', args: {} } })).toMatch(/data_provider\.type: "StreamProvider"/);
  });
});
