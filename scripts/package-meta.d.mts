// Types for scripts/package-meta.mjs (used by the tests beside it).
export interface WorkspacePackage {
  dir: string;
  pkg: Record<string, any> & { name: string; version: string; private?: boolean };
}
export const root: string;
export const NODE_RANGE: string;
export function workspacePackages(): WorkspacePackage[];
export function publishedPackages(): WorkspacePackage[];
export function allDependencies(pkgs?: WorkspacePackage[]): Record<string, string>;
export function withMeta(dir: string, pkg: Record<string, any>): Record<string, any>;
export function problems(): string[];
export function write(): string[];
export const MINIMAL_SEARCH: string[];
export const TRANSITIVE: string;
