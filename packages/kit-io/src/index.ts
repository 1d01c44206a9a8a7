export { writeFileAtomic, writeYamlAtomic, writeJsonAtomic, jsonReplacer, jsonSafe } from './atomic.js';
export { IO_CODES, ioError, guardedWrite } from './io-errors.js';
export { testKillPoint } from './fault-points.js';
export { MemoryExperimentStore, isPidAlive } from './memory-store.js';
