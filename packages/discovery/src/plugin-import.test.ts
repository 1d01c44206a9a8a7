// Plugin imports that would end the host: a top-level await that never settles, a process.exit().
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importPlugin } from './plugin-import.js';
import { codeOf } from '../../../test/fixtures.js';

describe('plugin imports that would end the host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'modnas-import-'));

  it('an import whose top-level await never settles times out, naming the package', async () => {
    const f = join(dir, 'hang.mjs');
    writeFileSync(f, 'await new Promise(() => {});\nexport default {};\n');
    const r = await codeOf(importPlugin('@bad/hang', f, 300));
    expect(r.code).toBe('MODNAS_E_PLUGIN_TIMEOUT');
    expect(r.message).toContain('@bad/hang');
    expect(r.message).toContain('MODNAS_PLUGIN_IMPORT_TIMEOUT_MS');
  });

  it('a process.exit() during the import throws instead of ending the program, and process.exit is put back', async () => {
    const exit = Object.getOwnPropertyDescriptor(process, 'exit')?.value as unknown;
    const f = join(dir, 'exit.mjs');
    writeFileSync(f, 'process.exit(0);\nexport default {};\n');
    const r = await codeOf(importPlugin('@bad/exit', f, 5000));
    expect(r.code).toBe('MODNAS_E_PLUGIN_EXIT');
    expect(r.message).toContain('@bad/exit');
    expect(Object.getOwnPropertyDescriptor(process, 'exit')?.value).toBe(exit);
  });

  it('a sound plugin imports as before', async () => {
    const f = join(dir, 'ok.mjs');
    writeFileSync(f, 'export default { ok: 1 };\n');
    expect(((await importPlugin('@good/ok', f)) as { default: { ok: number } }).default.ok).toBe(1);
  });
});
