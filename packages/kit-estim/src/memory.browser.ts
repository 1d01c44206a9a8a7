/**
 * The memory a browser tab may count on, in bytes: the device's as the browser tells it
 * (navigator.deviceMemory, Chromium: rounded, at most 8 GB), else 4 GB; a tab gets far less than a
 * process, so fitsInMemory's half of it is a generous bound.
 */
export function totalMemory(): number {
  const gb = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
  return (typeof gb === 'number' && gb > 0 ? gb : 4) * 2 ** 30;
}
