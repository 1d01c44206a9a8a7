/**
 * @modnas/runtime in a browser (the `browser` condition of its exports; index.ts adds the rest in
 * Node): building an experiment in its container (scope.ts, build.ts) and a search with no files
 * (in-memory.ts).
 */
export type { BuildEnv, BuiltNetwork, ComponentFactory } from './build.js';
export { buildNetwork, componentFactory, describeSpaceSize } from './build.js';
export type { ExperimentScope, ScopeServices } from './scope.js';
export { buildContextOf, estimContextOf, experimentScope } from './scope.js';
export type { InMemoryEstim, InMemoryRun, InMemoryRunOptions } from './in-memory.js';
export { runInMemory } from './in-memory.js';
