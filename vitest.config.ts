import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['scripts/*.test.ts', 'packages/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts', 'examples/*/src/**/*.test.ts', 'examples/*/*.test.ts'],
    // Workspace packages are used from their built dist (as users get them); inlining them
    // would give two copies of core and break the registry's identity checks.
    server: { deps: { external: [/\/(packages|plugins|examples)\/[^/]+\/dist\//, /node_modules\/@modnas\//] } },
    setupFiles: ['./vitest.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
