/**
 * The browser build of a package (the `browser` condition of its package.json's exports): the same
 * source bundled for the browser, where a module `x.ts` with a sibling `x.browser.ts` is replaced by
 * that sibling: the few modules that reach the machine (files, its memory, its host name) have a
 * browser version beside them, and everything else is shared. A Node built-in that still reaches the
 * bundle fails the build and names the module that imports it. Used by the packages' tsup configs.
 */
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';

const NODE = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** esbuild plugin: `./x.js` resolves to `./x.browser.ts` where that exists; Node built-ins fail. */
export function browserModules() {
  return {
    name: 'modnas-browser-modules',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (a) => {
        const alt = resolve(a.resolveDir, a.path).replace(/\.(js|ts)$/, '') + '.browser.ts';
        return existsSync(alt) ? { path: alt } : undefined;
      });
      build.onResolve({ filter: /^[a-z:_/]+$/ }, (a) =>
        NODE.has(a.path) ? { errors: [{ text: `${a.path} (a Node module) reaches the browser build from ${a.importer}: give that module a .browser.ts sibling, or keep it out of the browser entry` }] } : undefined,
      );
    },
  };
}

/**
 * The tsup configs of a package with a browser build: `node` (its own config) and dist/browser.js
 * from `entry` (default src/index.ts). The Node build cleans dist/ first; the browser build waits
 * for it (tsup runs an array's configs at once).
 */
export function withBrowserBuild(node, entry = 'src/index.ts') {
  return {
    ...node,
    async onSuccess() {
      const { build } = await import('tsup');
      await build({
        entry: { browser: entry },
        format: ['esm'],
        platform: 'browser',
        target: 'es2022',
        dts: false,
        clean: false,
        // no map: the build is not minified, so a page's bundler maps into it as it is (and npm
        // installs, which carry it in every minimal install, stay small)
        sourcemap: false,
        silent: true,
        config: false,
        esbuildPlugins: [browserModules()],
      });
    },
  };
}
