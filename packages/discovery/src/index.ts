export type { PluginManifest, DiscoveryReport, DiscoveryOptions } from './discovery.js';
export { discoverPlugins, peerSatisfied } from './discovery.js';
export { PLUGIN_IMPORT_TIMEOUT_MS, importPlugin } from './plugin-import.js';
export type { ProbeTarget } from './plugin-probe.js';
export { PROBE_SETTLE_MS, probeImports } from './plugin-probe.js';
