/**
 * The decoder thread of ImageDecoder (decoder.ts): decodes the files of each job, posts the pixels
 * back on the job port and wakes the waiting thread through the shared signal word. Jobs run in
 * the order they arrive; the files of one job decode a few at a time. It loads sharp only.
 */
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { SharpMissingError, causeText, decodeRaw, loadSharp } from './decode.js';
import type { DecodeJob, DecodeReply, WorkerInit } from './protocol.js';
import { SIGNAL_POSTED, SIGNAL_PROGRESS } from './protocol.js';

const { port, signal: sab, spec, concurrency } = workerData as WorkerInit;
const signal = new Int32Array(sab);
const per = spec.height * spec.width * spec.channels;

function post(reply: DecodeReply, to: MessagePort = port): void {
  to.postMessage(reply, reply.pixels ? [reply.pixels] : []);
  Atomics.add(signal, SIGNAL_POSTED, 1);
  Atomics.notify(signal, SIGNAL_POSTED);
}

async function run(job: DecodeJob): Promise<void> {
  const pixels = new Uint8Array(job.files.length * per);
  const failed: DecodeReply['failed'] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < job.files.length) {
      const i = next++;
      try {
        pixels.set(await decodeRaw(job.files[i], spec), i * per);
      } catch (e) {
        // a file that cannot be decoded is the caller's to report; sharp missing fails the job
        if (e instanceof SharpMissingError) throw e;
        failed.push({ index: i, error: causeText(e) });
      }
      Atomics.add(signal, SIGNAL_PROGRESS, 1);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, job.files.length)) }, lane));
  failed.sort((a, b) => a.index - b.index);
  post({ job: job.job, pixels: pixels.buffer, failed });
}

let queue = Promise.resolve();
port.on('message', (job: DecodeJob) => {
  queue = queue
    .then(() => run(job))
    .catch((e: unknown) => post({ job: job.job, failed: [], error: causeText(e), sharpMissing: e instanceof SharpMissingError }));
});
// libvips' own threads: one per image; the lanes give the parallelism and leave cores to training
void loadSharp()
  .then((s) => s.concurrency(1))
  .catch(() => undefined);
