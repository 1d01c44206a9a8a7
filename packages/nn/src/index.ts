export * from './layers.js';
export * from './loss.js';
export { addMacs, countMacs, profiling } from './profile.js';
