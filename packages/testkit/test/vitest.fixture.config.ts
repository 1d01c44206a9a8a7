import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Runs only the fixtures that must fail (src/conformance.test.ts starts it in a child process).
export default defineConfig({
  root: fileURLToPath(new URL('../../..', import.meta.url)),
  test: {
    include: ['packages/testkit/test/*.fixture.ts'],
    server: { deps: { external: [/\/(packages|plugins|examples)\/[^/]+\/dist\//, /node_modules\/@modnas\//] } },
    setupFiles: ['./vitest.setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
  },
});
