import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { ModnasError } from '@modnas/core';
import type { PixelSpec } from './decode.js';
import { checkPixelSpec, sharpMissingError } from './pixels.js';
import type { DecodeJob, DecodeReply, WorkerInit } from './protocol.js';
import { SIGNAL_POSTED, SIGNAL_PROGRESS } from './protocol.js';

/** The pixels of a job's files, in order (height x width x channels bytes each; zeros for a failed file). */
export interface DecodedFiles {
  pixels: Uint8Array;
  /** The files that could not be decoded: their index in the job and sharp's reason. */
  failed: Array<{ index: number; error: string }>;
}

export interface ImageDecoderOptions {
  /** Images decoded at once (default: the cores, at most 4). */
  concurrency?: number;
  /** Give up when the decoder thread has finished no image for this long (default 120 s). */
  stallMs?: number;
}

const DECODER_ERROR = 'MODNAS_E_DATA_DECODER';

/** The built worker beside this file; vitest runs this file from src/, where only the build has it. */
function workerUrl(): URL {
  const here = new URL('./decode-worker.js', import.meta.url);
  return existsSync(fileURLToPath(here)) ? here : new URL('../dist/decode-worker.js', import.meta.url);
}

/**
 * Image decoding for synchronous callers (DataSplit.batches is a sync generator; sharp is async):
 * a worker thread decodes with readImagePixels' pipeline while the caller goes on, and wait()
 * blocks the calling thread (Atomics.wait on a shared word, replies read with
 * receiveMessageOnPort) until a job's pixels are there. request() a batch ahead and wait() for it
 * later, and decoding overlaps the training step. The thread starts on the first request and never
 * keeps the process alive; close() ends it.
 */
export class ImageDecoder {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly shared = new SharedArrayBuffer(8);
  private readonly signal = new Int32Array(this.shared);
  private nextJob = 1;
  private readonly ready = new Map<number, DecodeReply>();
  /** Requested and not yet received. */
  private readonly pending = new Set<number>();
  /** Cancelled before their reply came: dropped on arrival. */
  private readonly dropped = new Set<number>();

  constructor(
    readonly spec: PixelSpec,
    private readonly opts: ImageDecoderOptions = {},
  ) {
    checkPixelSpec(spec);
  }

  /** Bytes of one decoded image. */
  get imageBytes(): number {
    return this.spec.height * this.spec.width * this.spec.channels;
  }

  /** Start decoding `files`; returns the job to wait() for (or cancel()). */
  request(files: readonly string[]): number {
    const port = this.start();
    const job = this.nextJob++;
    this.pending.add(job);
    port.postMessage({ job, files: [...files] } satisfies DecodeJob);
    return job;
  }

  /** Block until the job is decoded. Throws MODNAS_E_DATA_DECODER when the thread stopped or stalled. */
  wait(job: number): DecodedFiles {
    if (!this.pending.has(job) && !this.ready.has(job)) throw new ModnasError('MODNAS_E_INTERNAL', `ImageDecoder: job ${job} was never requested, or was cancelled or already taken`);
    const stallMs = this.opts.stallMs ?? 120_000;
    let progress = Atomics.load(this.signal, SIGNAL_PROGRESS);
    let since = Date.now();
    for (;;) {
      // read the word before draining: a reply posted after the drain changes it, and wait returns at once
      const seen = Atomics.load(this.signal, SIGNAL_POSTED);
      this.drain();
      const reply = this.ready.get(job);
      if (reply) {
        this.ready.delete(job);
        return this.result(reply);
      }
      // a thread that exited (a crash, or its module failed to load) has threadId -1 before 'exit' is emitted
      if (!this.worker || this.worker.threadId === -1) {
        this.reset();
        throw new ModnasError(DECODER_ERROR, 'the image decoder thread stopped before finishing its images', {
          fix: 'run again; if it repeats, check that sharp loads (node -e "require(\'sharp\')") and that the machine has memory left',
        });
      }
      Atomics.wait(this.signal, SIGNAL_POSTED, seen, 1000);
      const p = Atomics.load(this.signal, SIGNAL_PROGRESS);
      if (p !== progress) {
        progress = p;
        since = Date.now();
      } else if (Date.now() - since > stallMs) {
        this.close();
        throw new ModnasError(DECODER_ERROR, `the image decoder thread finished no image in ${Math.round(stallMs / 1000)} s`, {
          fix: 'check that the image files can be read (a network folder that hangs?) and are not huge; then run again',
        });
      }
    }
  }

  /** Forget a job: its pixels are dropped when they come. */
  cancel(job: number): void {
    if (this.ready.delete(job)) return;
    if (this.pending.has(job)) this.dropped.add(job);
  }

  /** request() and wait() at once. */
  decode(files: readonly string[]): DecodedFiles {
    return this.wait(this.request(files));
  }

  /** End the thread (a later request starts a new one). */
  close(): void {
    const w = this.worker;
    this.reset();
    void w?.terminate();
  }

  private start(): MessagePort {
    if (this.port && this.worker && this.worker.threadId !== -1) return this.port;
    this.reset();
    const { port1, port2 } = new MessageChannel();
    const init: WorkerInit = {
      port: port2,
      signal: this.shared,
      spec: { height: this.spec.height, width: this.spec.width, channels: this.spec.channels, resize: this.spec.resize, ...(this.spec.inner ? { inner: [...this.spec.inner] } : {}) },
      concurrency: Math.max(1, this.opts.concurrency ?? Math.min(4, availableParallelism())),
    };
    const worker = new Worker(workerUrl(), { workerData: init, transferList: [port2] });
    worker.unref();
    // the 'error' event is the thread's own report: wait() sees the thread gone through threadId
    worker.on('error', () => undefined);
    port1.unref();
    this.worker = worker;
    this.port = port1;
    return port1;
  }

  private reset(): void {
    this.port?.close();
    this.port = undefined;
    this.worker = undefined;
    this.ready.clear();
    this.pending.clear();
    this.dropped.clear();
  }

  private drain(): void {
    if (!this.port) return;
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (!m) return;
      const reply = m.message as DecodeReply;
      this.pending.delete(reply.job);
      if (this.dropped.delete(reply.job)) continue;
      this.ready.set(reply.job, reply);
    }
  }

  private result(reply: DecodeReply): DecodedFiles {
    if (reply.sharpMissing) throw sharpMissingError(reply.error ?? 'the image decoder sharp could not be loaded');
    if (reply.error !== undefined || !reply.pixels) {
      throw new ModnasError(DECODER_ERROR, `the image decoder failed: ${reply.error ?? 'no pixels came back'}`, { fix: 'run again; if it repeats, report it with the log' });
    }
    return { pixels: new Uint8Array(reply.pixels), failed: reply.failed };
  }
}
