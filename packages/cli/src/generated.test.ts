// Generated files are committed; these tests fail when they drift from the plugins that exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM scripts without type declarations
import { firstPartyManifests, firstPartySource } from '../../../scripts/gen-first-party.mjs';
// @ts-expect-error: plain ESM scripts without type declarations
import { schemaSource, shippedSource } from '../../../scripts/schemas.mjs';

const root = new URL('../../../', import.meta.url);

describe('generated files', () => {
  it('packages/runtime/src/first-party.ts lists every first-party id and alias (run: node scripts/gen-first-party.mjs)', async () => {
    expect(readFileSync(new URL('packages/runtime/src/first-party.ts', root), 'utf8')).toBe(await (firstPartySource as () => Promise<string>)());
  });

  it("every first-party plugin's package.json lists its aliases in modnas.aliases (run: node scripts/gen-first-party.mjs)", async () => {
    const stale = (await (firstPartyManifests as () => Promise<Array<{ file: string; text: string; want: string }>>)()).filter((m) => m.text !== m.want);
    expect(stale.map((m) => m.file)).toEqual([]);
  });

  it('schema/modnas.schema.json matches the installed components (run: pnpm schemas)', async () => {
    expect(readFileSync(new URL('schema/modnas.schema.json', root), 'utf8')).toBe(await (schemaSource as () => Promise<string>)());
  });

  it("the cli's tarball ships the same schema (packages/cli/schema, in its files and exports; run: pnpm schemas)", () => {
    const pkg = JSON.parse(readFileSync(new URL('packages/cli/package.json', root), 'utf8')) as { files: string[]; exports: Record<string, unknown> };
    expect(pkg.files).toContain('schema');
    expect(pkg.exports['./schema.json']).toBe('./schema/modnas.schema.json');
    // the same schema, without indentation
    const shipped = readFileSync(new URL('packages/cli/schema/modnas.schema.json', root), 'utf8');
    expect(shipped).toBe((shippedSource as (src: string) => string)(readFileSync(new URL('schema/modnas.schema.json', root), 'utf8')));
    expect(JSON.parse(shipped)).toEqual(JSON.parse(readFileSync(new URL('schema/modnas.schema.json', root), 'utf8')));
  });
});
