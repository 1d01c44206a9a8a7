/**
 * A Node module resolve hook (registered by bin.ts): every import of @modnas/core or
 * @tensorflow/tfjs-core, from any plugin, resolves to the CLI's own copy. A plugin linked from its
 * own folder, or found beside a global CLI, then shares the CLI's registry, engine and kernels
 * instead of loading a second core and tfjs (discovery reports such copies).
 */
interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string | null; shortCircuit?: boolean }>;

let pinned: Record<string, { url: string; format: string }> = {};

export function initialize(data: { pinned: typeof pinned }): void {
  pinned = data.pinned;
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  const p = pinned[specifier];
  return p ? { url: p.url, format: p.format, shortCircuit: true } : next(specifier, context);
}
