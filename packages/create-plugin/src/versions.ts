import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The packages a generated plugin depends on, with the ranges it gets. */
export type Versions = Record<'@modnas/core' | '@modnas/testkit' | '@tensorflow/tfjs-backend-cpu' | '@types/node' | 'tsup' | 'typescript' | 'vitest', string>;

/**
 * The ranges from this package's own devDependencies: published, they are real ranges (`pnpm pack`
 * rewrote `workspace:^`); in the workspace, a `workspace:` range becomes `^` the linked package's version.
 */
export function generatorVersions(): Versions {
  const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: Versions };
  const require = createRequire(import.meta.url);
  const out = { ...own.devDependencies };
  for (const [name, range] of Object.entries(out) as Array<[keyof Versions, string]>) {
    if (!range.startsWith('workspace:')) continue;
    const { version } = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string };
    out[name] = `^${version}`;
  }
  return out;
}
