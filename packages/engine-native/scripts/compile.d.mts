// Types of compile.mjs for its TypeScript users (src/harness.test.ts).
export interface Level {
  isa: string;
  flags: string[];
}
export interface Target {
  cxx: string;
  arch: string;
  levels: Level[];
  exe: string;
  runner?: string[];
  extra?: string[];
}
export const pkgDir: string;
export const srcDir: string;
export const TARGETS: Record<'linux-x64-gnu' | 'linux-arm64-gnu' | 'win32-x64', Target>;
export function hostTarget(platform?: string, arch?: string): keyof typeof TARGETS | undefined;
export function compilerVersion(cxx: string): string | undefined;
export function nodeInclude(): string | undefined;
export function buildAddon(o: { target?: keyof typeof TARGETS; level: Level; outDir: string; cxx?: string; flags?: string[]; name?: string; openmp?: boolean }): string;
export function buildHarness(o: { target: keyof typeof TARGETS; level: Level; outDir: string; cxx?: string }): string;
