export { writeFileAtomic, writeYamlAtomic, writeJsonAtomic, writeAll, appendFileWhole, jsonReplacer } from './atomic.js';
export type { AtomicWriteOptions } from './atomic.js';
export { IO_CODES, ioError, guardedWrite, nativeModuleError } from './io-errors.js';
export { testKillPoint, testDiskWrite, testDiskRoom, DISK_SITES } from './fault-points.js';
