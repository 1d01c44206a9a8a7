export { writeFileAtomic, writeYamlAtomic, writeJsonAtomic, writeAll, appendFileWhole, jsonReplacer } from './atomic.js';
export type { AtomicWriteOptions } from './atomic.js';
export { IO_CODES, ioError, guardedWrite, nativeModuleError } from './io-errors.js';
export { testKillPoint, testDiskWrite, testDiskRoom, DISK_SITES } from './fault-points.js';
export { crc32c, maskedCrc32c, tfRecord, encodeEvent, EventFileWriter, TF_EVENT_FILE_VERSION } from './tfevents.js';
export type { Scalar, TfEvent, EventFileOptions } from './tfevents.js';
export { isInside, realish, notPlainPath, escapeOf, fileInside } from './paths.js';
export type { ConfineOptions } from './paths.js';
