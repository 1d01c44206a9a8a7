export * from './conformance.js';
export * from './fixtures.js';
export * from './primitives.js';
