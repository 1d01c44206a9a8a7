import type { Options } from 'tsup';

export declare function browserModules(): NonNullable<Options['esbuildPlugins']>[number];
export declare function withBrowserBuild(node: Options, entry?: string): Options;
