import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function pkg(dir: string, pj: Record<string, unknown>, source: string): void {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version: '1.0.0', type: 'module', exports: { '.': './dist/index.js' }, ...pj }));
  writeFileSync(join(dir, 'dist', 'index.js'), source);
}

describe('a plugin with its own copy of @modnas/core', () => {
  it('imports the CLI\'s core instead, and doctor names both copies', () => {
    const host = mkdtempSync(join(tmpdir(), 'modnas-dupcore-'));
    const plugin = join(host, 'node_modules', 'own-core-plugin');
    pkg(
      plugin,
      { name: 'own-core-plugin', modnas: { schemaVersion: 1, kind: 'dataset', provides: ['OwnCore'] }, peerDependencies: { '@modnas/core': '*' } },
      "import { definePlugin } from '@modnas/core';\n" +
        "export default definePlugin({ meta: { name: 'own-core-plugin', version: '1.0.0' }, components: [{ kind: 'dataset', id: 'OwnCore', description: 'fixture', schema: { safeParse: (x) => ({ success: true, data: x }), parse: (x) => x }, create: () => ({}) }] });\n",
    );
    // The second copy fails loudly if anything imports it.
    pkg(join(plugin, 'node_modules', '@modnas', 'core'), { name: '@modnas/core' }, "throw new Error('the plugin\\'s own copy of @modnas/core was imported');\n");
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'host', version: '0.0.0', dependencies: { 'own-core-plugin': '1.0.0' } }));

    // list reads the manifest only; doctor imports the plugin (below), through the CLI's core
    const list = spawnSync(process.execPath, [bin, 'plugins', 'list'], { cwd: host, encoding: 'utf8' });
    expect(list.stdout).toMatch(/OwnCore\s+own-core-plugin\s+1\.0\.0\s+lazy/);

    const doctor = spawnSync(process.execPath, [bin, 'plugins', 'doctor'], { cwd: host, encoding: 'utf8' });
    expect(doctor.status).toBe(1);
    expect(doctor.stdout).toContain('@modnas/core is installed twice');
    expect(doctor.stdout).toContain(join('own-core-plugin', 'node_modules', '@modnas', 'core'));
    expect(doctor.stdout).not.toContain('was imported');
    expect(doctor.stdout).not.toContain('own-core-plugin:');
  });
});
