import type { MessagePort } from 'node:worker_threads';
import type { PixelSpec } from './decode.js';

/** Words of the shared signal array: replies posted so far, and images finished so far (liveness). */
export const SIGNAL_POSTED = 0;
export const SIGNAL_PROGRESS = 1;

export interface WorkerInit {
  port: MessagePort;
  signal: SharedArrayBuffer;
  spec: PixelSpec;
  /** Images decoded at once. */
  concurrency: number;
}

export interface DecodeJob {
  job: number;
  files: string[];
}

export interface DecodeReply {
  job: number;
  /** files.length x height x width x channels bytes; zeros where a file failed. */
  pixels?: ArrayBuffer;
  failed: Array<{ index: number; error: string }>;
  /** The job failed as a whole (not one file): the message. */
  error?: string;
  /** ... because sharp could not be loaded. */
  sharpMissing?: boolean;
}
