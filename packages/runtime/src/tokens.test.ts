// Every DI token that non-test code binds is resolved by non-test code, and every token is bound:
// the container is where components get their services, not a list of names nobody reads.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tokens } from '@modnas/core';
import { ServiceTokens } from '@modnas/services';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function sources(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ts$/.test(name) && !/\.(test|e2e\.test)\.ts$|\.d\.ts$/.test(name) && !/test-fixtures|testing/.test(p)) out.push({ file: relative(root, p), text: readFileSync(p, 'utf8') });
    }
  };
  for (const top of ['packages', 'plugins']) {
    for (const pkg of readdirSync(join(root, top))) {
      if (pkg === 'testkit') continue; // test helpers
      try {
        if (statSync(join(root, top, pkg, 'src')).isDirectory()) walk(join(root, top, pkg, 'src'));
      } catch {
        // a package without src/
      }
    }
  }
  return out;
}

/** token name -> files, for each regex's captures ("Tokens.Model" / "ServiceTokens.Executor"). */
function uses(re: RegExp): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const { file, text } of sources()) {
    for (const hit of text.matchAll(re)) {
      const name = `${hit[1]}.${hit[2]}`;
      m.set(name, [...(m.get(name) ?? []), file]);
    }
  }
  return m;
}

describe('DI tokens', () => {
  const bound = uses(/registerInstance\(\s*(Tokens|ServiceTokens)\.(\w+)/g);
  const resolved = uses(/(?:(?:resolveToken|required)\(\s*[\w.]+,\s*|\.resolve(?:<[^>]*>)?\(\s*)(Tokens|ServiceTokens)\.(\w+)/g);

  it('every token is bound by non-test code, and every bound token is resolved by non-test code', () => {
    const all = [...Object.keys(Tokens).map((k) => `Tokens.${k}`), ...Object.keys(ServiceTokens).map((k) => `ServiceTokens.${k}`)];
    const rows = all.map((t) => ({ token: t, boundIn: bound.get(t) ?? [], resolvedIn: [...new Set(resolved.get(t) ?? [])] }));
    // the list, for the reader of the test log
    for (const r of rows) console.log(`${r.token.padEnd(30)} bound: ${[...new Set(r.boundIn)].join(', ') || '-'}; resolved: ${r.resolvedIn.join(', ') || '-'}`);
    expect(rows.filter((r) => r.boundIn.length === 0).map((r) => r.token)).toEqual([]);
    expect(rows.filter((r) => r.resolvedIn.length === 0).map((r) => r.token)).toEqual([]);
    // nothing binds a token that is not one of these
    expect([...bound.keys()].filter((t) => !all.includes(t))).toEqual([]);
  });
});
