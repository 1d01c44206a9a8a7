export { writeFileAtomic, writeYamlAtomic, writeJsonAtomic, jsonReplacer } from './atomic.js';
