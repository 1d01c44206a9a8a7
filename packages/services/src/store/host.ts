/**
 * What the store's code asks of the machine it runs on: SHA-256 digests, this host and process, and
 * whether another process of this host is alive. host.browser.ts answers for a browser tab.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/** SHA-256 (hex) of bytes or of a string's UTF-8. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hostName(): string {
  return hostname();
}

export function processId(): number {
  return process.pid;
}

/** Is a process of this host alive? (EPERM: alive, owned by another user.) */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
