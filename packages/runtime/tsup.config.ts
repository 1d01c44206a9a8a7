import { defineConfig } from 'tsup';
import { withBrowserBuild } from '../../scripts/browser-build.mjs';

export default defineConfig(withBrowserBuild({
  entry: ['src/index.ts', 'src/thread-main.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Stack traces need the map's mappings and file names, not the sources themselves (as core's).
  esbuildOptions(o) {
    o.sourcesContent = false;
  },
}, 'src/browser.ts'));
