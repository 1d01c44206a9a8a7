// The trial runner's guards (Tokens.TrialRunner): a trial config file only from inside the
// experiment's config folder, a trial folder only inside the experiment's trials/.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry, isModnasError, silentLogger } from '@modnas/core';
import { container as rootContainer } from 'tsyringe';
import { trialConfigFile, trialRunner } from './trials.js';

function codeOf(f: () => unknown): string | false {
  try {
    f();
  } catch (e) {
    return isModnasError(e) && e.code;
  }
  return false;
}

describe('trial runner', () => {
  const root = mkdtempSync(join(tmpdir(), 'modnas-trials-'));
  const cfgDir = join(root, 'cfg');
  mkdirSync(join(cfgDir, 'sub'), { recursive: true });
  writeFileSync(join(root, 'secret.yaml'), 'name: x\n');
  writeFileSync(join(cfgDir, 'sub', 'trial.yaml'), 'name: x\n');
  symlinkSync(join(root, 'secret.yaml'), join(cfgDir, 'out.yaml'));
  symlinkSync(join(cfgDir, 'sub', 'trial.yaml'), join(cfgDir, 'in.yaml'));

  it('resolves a trial config inside the config folder (links that stay inside included)', () => {
    expect(trialConfigFile('sub/trial.yaml', cfgDir)).toBe(join(cfgDir, 'sub', 'trial.yaml'));
    expect(trialConfigFile('./sub/../in.yaml', cfgDir)).toBe(join(cfgDir, 'in.yaml'));
  });

  it('refuses one outside it: relative, absolute, through a link, or missing', () => {
    for (const p of ['../secret.yaml', 'sub/../../secret.yaml', join(root, 'secret.yaml'), 'out.yaml', 'missing.yaml']) {
      expect(codeOf(() => trialConfigFile(p, cfgDir)), p).toBe('MODNAS_E_TRIAL_CONFIG');
    }
  });

  it('refuses a trial name that is not a plain folder name', async () => {
    const runner = trialRunner({ registry: new Registry(), backend: { backend: 'cpu', source: 'builtin', skipped: [] }, outputDir: join(root, 'exp'), configDir: cfgDir, persist: false, logger: silentLogger, parent: rootContainer });
    for (const name of ['../x', 'a/b', '..', '', '/abs']) {
      const err = await runner.run({ name, config: {} }).catch((e: unknown) => e);
      expect(isModnasError(err) && err.code, name).toBe('MODNAS_E_TRIAL_NAME');
    }
  });
});
