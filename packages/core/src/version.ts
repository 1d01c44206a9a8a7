// The JSON is inlined by the bundler (tsup, esbuild, Vite), so core needs no file system to know
// its version: the same code runs in Node and in a browser page.
import pkg from '../package.json' with { type: 'json' };

/** This core's version (from its package.json), checked against plugins' peer ranges. */
export const CORE_VERSION: string = pkg.version;
