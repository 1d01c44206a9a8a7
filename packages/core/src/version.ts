import { createRequire } from 'node:module';

/** This core's version (from its package.json), checked against plugins' peer ranges. */
export const CORE_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
