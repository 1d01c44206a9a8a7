import type { Page } from 'playwright-core';

export declare const EMBEDDED: { train: number; test: number };
export declare const ORIGIN: string;
export declare const WEBGPU_ARGS: string[];
export declare function buildPage(opts?: { serve?: boolean; port?: number }): Promise<{ dist: string; url?: string }>;
export declare function routeDist(page: Page): Promise<void>;
