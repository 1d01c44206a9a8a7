import { defineConfig } from 'tsup';
import { withBrowserBuild } from '../../scripts/browser-build.mjs';

export default defineConfig(withBrowserBuild({ entry: ['src/index.ts'], format: ['esm'], dts: true, clean: true, sourcemap: true, target: 'node20' }));
