export { originalFormat, isOriginalFormat, mapOriginalFormat } from './original.js';
