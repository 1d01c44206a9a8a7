import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { randomOptim } from '../test/broken-restore.js';
import { checkOptimizer } from './behaviour.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('the optimizer behaviour check', () => {
  it('passes an optimizer whose restore() brings its random stream back', async () => {
    const def = randomOptim({ brokenRestore: false });
    await expect(checkOptimizer(def, def.schema.parse({}))).resolves.toBeUndefined();
  });

  it('fails an optimizer whose restore() forgets its state, saying what differs', async () => {
    const def = randomOptim({ brokenRestore: true });
    await expect(checkOptimizer(def, def.schema.parse({}))).rejects.toThrow(/after restore\(state\(\)\) a fresh optimizer proposes other candidates/);
  });

  it('fails the whole conformance suite of a plugin with a broken restore() (a child vitest run)', () => {
    const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'packages/testkit/test/vitest.fixture.config.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' } });
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(1);
    expect(out).toMatch(/BrokenRestoreOptim > behaviour: next\/step on a toy problem.*/);
    expect(out).toMatch(/Tests\s+1 failed \| \d+ passed/);
  });
});
