#!/usr/bin/env node
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

// `modnas report | head`: the reader went away; that is not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

// One copy of core and tfjs-core at run time, the CLI's own, whatever a plugin would resolve.
const coreUrl = import.meta.resolve('@modnas/core');
const tfcUrl = pathToFileURL(createRequire(coreUrl).resolve('@tensorflow/tfjs-core')).href;
register('./resolve-hook.js', import.meta.url, {
  data: { pinned: { '@modnas/core': { url: coreUrl, format: 'module' }, '@tensorflow/tfjs-core': { url: tfcUrl, format: 'commonjs' } } },
});

const { main } = await import('./main.js');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fatal: ${String((e as Error)?.stack ?? e)}\n`);
    process.exitCode = 1;
  },
);
