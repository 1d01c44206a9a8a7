export * from './conformance.js';
export * from './fixtures.js';
export * from './primitives.js';
export * from './toy-search.js';
export * from './store-contract.js';
export * from './gradients.js';
export * from './behaviour.js';
