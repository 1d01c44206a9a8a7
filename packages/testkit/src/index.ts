export * from './conformance.js';
export * from './fixtures.js';
