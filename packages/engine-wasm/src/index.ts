// Deprecated: @modnas/engine-wasm is @modnas/engine-native under its old name, kept for one release.
// It carries no `modnas` manifest, so discovery finds the engines once: through this package's
// dependency on @modnas/engine-native (discovery follows the dependencies of every @modnas package).
process.emitWarning('@modnas/engine-wasm is renamed to @modnas/engine-native: npm i @modnas/engine-native, and import from it (this alias goes in the next release)', {
  type: 'DeprecationWarning',
  code: 'MODNAS_DEP_ENGINE_WASM',
});

export * from '@modnas/engine-native';
export { default } from '@modnas/engine-native';
