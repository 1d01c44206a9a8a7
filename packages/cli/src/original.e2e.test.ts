// The original ModularNAS's own config format and flags through the real command: the README's
// snippets assembled into examples/original/readme.yaml (no key renamed) search with
// `-c ... -r search -n ...`, then the network found trains with `-r augment -g <arch file>`.
// Budgets and width are cut with -o (values only) to keep the test short.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root, runCli } from '../test/run-cli.js';

const out = mkdtempSync(join(tmpdir(), 'modnas-original-'));
const config = join(root, 'examples', 'original', 'readme.yaml');
const SMALL = ['-o', 'model.args.width_coeff=0.25', '-o', 'data_loader.args.train_size=64', '-o', 'data_loader.args.valid_size=32', '--output-dir', out];

afterAll(() => rmSync(out, { recursive: true, force: true }));

const cli = runCli;

describe("the original ModularNAS's config format and flags", () => {
  it("the README's snippets search (-c, -r search, -n), then the network found trains (-r augment, -g)", async () => {
    const search = await cli(['run', '-c', config, '-r', 'search', '-n', 'readme', '-o', 'search.estim.warmup.epochs=1', '-o', 'search.estim.search.epochs=1', '-d', '0', ...SMALL]);
    expect(search.code, search.stderr).toBe(0);
    // what was translated is said in the log
    expect(search.stderr).toContain('config format: ');
    expect(search.stderr).toContain('routine search: its section applied over the config');
    expect(search.stderr).toContain('-d/--device_ids 0: no effect here');
    expect(search.stdout).toMatch(/warmup \(DefaultEstim[^)]*\)/);
    expect(search.stdout).toMatch(/search \(SuperNetEstim[^)]*\)/);
    const arch = join(out, 'readme', 'outputs', 'arch_search_best.yaml');
    expect(existsSync(arch)).toBe(true);
    // (a YAML list, one op a line)
    const desc = readFileSync(arch, 'utf8').split('\n').filter((l) => l.startsWith('- ')).map((l) => l.slice(2).trim());
    // one candidate of the README's six per searchable block of CIFAR_MobileNetV2_GPU
    expect(desc.length).toBeGreaterThan(10);
    for (const op of desc) expect(['MB3E3', 'MB3E6', 'MB5E3', 'MB5E6', 'MB7E3', 'MB7E6', 'NIL']).toContain(op);

    const train = await cli(['run', '-c', config, '-r', 'augment', '-g', arch, '-n', 'readme-train', '-o', 'augment.estim.train.epochs=1', ...SMALL]);
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toContain('construct (mixed_op): the network is built from arch_desc');
    // a fixed network: no arch params, the one estimator of the augment section
    expect(train.stderr).toMatch(/model: [\d,]+ weights, 0 arch params/);
    expect(train.stdout).toMatch(/train \(DefaultEstim[^)]*\)/);
    expect(train.stdout).not.toContain('SuperNetEstim');
  }, 240_000);

  it('refuses -p (a PyTorch checkpoint) with the way to resume', async () => {
    const r = await cli(['run', '-c', config, '-p', 'model.pt', '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('MODNAS_E_CLI_CHKPT');
    expect(r.stderr).toContain('--resume');
  });
});
