/** The machine's memory in bytes, for the data size checks (fitsInMemory); memory.browser.ts in a browser. */
import { totalmem } from 'node:os';

export function totalMemory(): number {
  return totalmem();
}
