import type { Registry } from '@modnas/core';
import { experimentJsonSchema } from '@modnas/config';
import { registerRuntimeComponents } from './executors/bind.js';

/**
 * The JSON Schema of an experiment config with the options of every component in the registry and
 * the runtime's own executors (`modnas schema`, scripts/schemas.mjs): discover plugins first.
 */
export function configJsonSchema(registry: Registry): Promise<Record<string, unknown>> {
  registerRuntimeComponents(registry);
  return experimentJsonSchema(registry);
}

/** A component's options as JSON Schema (`modnas plugins info`): the same conversion as the config's schema. */
export { optionsJsonSchema } from '@modnas/config';
