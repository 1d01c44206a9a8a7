export { KINDS, baseName, createPlugin, defaultIds, renderPlugin, validate } from './create.js';
export type { PluginOptions } from './create.js';
export { TEMPLATE_KINDS, templateOf } from './templates.js';
export type { KindTemplate } from './templates.js';
export { generatorVersions } from './versions.js';
export type { Versions } from './versions.js';
