/**
 * FLOPs are counted by running the network once on a tiny batch while a profile is active; each
 * layer adds its multiply-accumulates. Counting from the layers that actually run keeps the count
 * right for any module tree (Slots, mixed ops choosing one path, elastic modules).
 */
interface ProfileState {
  macs: number;
}

let active: ProfileState | undefined;

export function addMacs(n: number): void {
  if (active) active.macs += n;
}

export function profiling(): boolean {
  return active !== undefined;
}

/** Run `fn` with MAC counting on; returns the MACs per example counted (batch of 1). */
export function countMacs(fn: () => void): number {
  const prev = active;
  active = { macs: 0 };
  try {
    fn();
    return active.macs;
  } finally {
    active = prev;
  }
}
