// The CLI explains components, through the built command in a project outside the workspace (as an
// npm user has it): plugins info / list [kind] / schema, did-you-mean over every installed id and
// alias (an outside plugin's too, from its manifest: its code is never imported), --json for run and
// report, --check listing each id once, and the training note naming the epochs an override sets.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const tmp = mkdtempSync(join(tmpdir(), 'modnas-explain-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// an outside plugin: a primitive with an alias, whose import leaves a mark
const marker = join(tmp, 'imported');
const outside = join(tmp, 'outside');
mkdirSync(outside);
writeFileSync(
  join(outside, 'package.json'),
  JSON.stringify({ name: 'modnas-plugin-outside', version: '2.0.0', type: 'module', exports: { '.': './index.mjs' }, modnas: { schemaVersion: 1, kind: 'primitive', provides: ['FancyConvOp'], aliases: { FancyConvOp: ['FancyConv'] } } }),
);
writeFileSync(join(outside, 'index.mjs'), `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(marker)}, 'x');\nexport default {};\n`);

const project = join(tmp, 'project');
mkdirSync(project);
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'explain-host', private: true }));
const plugins = readdirSync(join(root, 'plugins')).map((p) => join(root, 'plugins', p));
const ENV = { ...process.env, MODNAS_PLUGIN_PATH: [...plugins, outside].join(delimiter), MODNAS_BACKEND: 'cpu', XDG_CACHE_HOME: join(tmp, 'cache') };

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd: project, env: ENV });
    let out = '';
    let err = '';
    c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    c.on('exit', (code) => res({ code, out, err }));
  });
}

type Schema = { properties: Record<string, Schema>; $defs: Record<string, Schema>; enum?: string[]; anyOf?: Schema[]; additionalProperties?: Schema | boolean; default?: unknown; description?: string; $ref?: string };
/** The committed schema: BinaryGateOptim's options as the generator sees them (independent of plugins info). */
const committed = JSON.parse(readFileSync(join(root, 'schema', 'modnas.schema.json'), 'utf8')) as Schema;

/** A tiny search: binary gates over two MBConv candidates per block, one epoch, on 16 synthetic images. */
const SEARCH = `name: tiny
output_dir: ${JSON.stringify(join(tmp, 'exp'))}
data: { type: Synthetic, size: 16, test_size: 8, image_size: 8, num_classes: 4 }
model: { type: MobileNetV2, cfgs: [[0, 8, 1, 1], [1, 8, 1, 1], [6, 8, 1, 1]] }
construct:
  search: { type: MobileNetV2SearchConstructor, mixed_op: { type: BinGate }, primitives: [MB3E3, MB3E6] }
trainer: { type: DefaultTrainer, batch_size: 8 }
optim: { type: BinaryGateOptim }
estim:
  search: { type: SuperNetEstimator, epochs: 1 }
`;
const searchFile = join(project, 'search.yaml');
writeFileSync(searchFile, SEARCH);

// first: until a command loads a plugin, no plugin code has run (a load probes every plugin in a child process)
describe('modnas plugins list [kind]', () => {
  it('filters by kind and shows each id\'s description from the manifests (no plugin code imported)', async () => {
    const r = await cli(['plugins', 'list', 'optim']);
    expect(r.code, r.err).toBe(0);
    const [head, ...rows] = r.out.trimEnd().split('\n');
    expect(head).toMatch(/^KIND\s+ID\s+ALIASES\s+PACKAGE\s+VERSION\s+STATUS\s+DESCRIPTION$/);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((l) => l.startsWith('optim '))).toBe(true);
    expect(rows.find((l) => /^optim\s+BinaryGateOptim\s/.test(l))).toContain('lazy    ProxylessNAS-G: Adam on α');
    const all = await cli(['plugins', 'list', '--json']);
    const kinds = new Set((JSON.parse(all.out) as { plugins: Array<{ kind: string }> }).plugins.map((p) => p.kind));
    expect(kinds.size).toBeGreaterThan(5);
    expect(existsSync(marker)).toBe(false);
  });

  it('an unknown kind exits 2 with the close match and every kind', async () => {
    const r = await cli(['plugins', 'list', 'optm']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown kind "optm". Did you mean "optim"? The kinds: optim, estim, construct, mixed-op, primitive, backbone');
    expect(r.err).toMatch(/engine\n/);
  });
});

describe('modnas plugins info', () => {
  it('BinaryGateOptim: kind, package, description, and every option of its schema with its default and description', async () => {
    const r = await cli(['plugins', 'info', 'BinaryGateOptim']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^BinaryGateOptim \(optim\) from @modnas\/optim-binary-gate \d+\.\d+\.\d+\n {2}ProxylessNAS-G/);
    const opts = committed.$defs['optim.BinaryGateOptim'].properties.args.properties;
    expect(Object.keys(opts).length).toBeGreaterThan(5);
    for (const [key, o] of Object.entries(opts)) {
      expect(o.description, key).toBeTruthy();
      // the key, its default on the same line, its description on the next
      expect(r.out, key).toContain(`  ${key.padEnd(12)}  `);
      const line = r.out.split('\n').findIndex((l) => l.startsWith(`  ${key} `));
      expect(r.out.split('\n')[line], key).toContain(`default ${JSON.stringify(o.default)}`);
      expect(r.out.split('\n')[line + 1].trim(), key).toBe(o.description);
    }
  });

  it('--json gives the same, parseable; an alias finds its component; nested options are dotted keys', async () => {
    const r = await cli(['plugins', 'info', 'SubNetEstim', '--json']);
    expect(r.code, r.err).toBe(0);
    const info = JSON.parse(r.out) as { id: string; kind: string; aliases: string[]; package: string; options: Array<{ key: string; default?: unknown; description: string }> };
    expect(info).toMatchObject({ id: 'SubNetEstimator', kind: 'estim', aliases: ['SubNetEstim'], package: '@modnas/estim-subnet' });
    const keys = info.options.map((o) => o.key);
    expect(keys).toContain('early_stop');
    expect(keys).toContain('early_stop.min_epochs');
    expect(info.options.find((o) => o.key === 'early_stop.min_epochs')).toMatchObject({ default: 1 });
    expect(info.options.every((o) => o.description.length > 0)).toBe(true);
  });

  it('an unknown id exits 2 with the close matches, an outside plugin\'s manifest alias among them', async () => {
    const r = await cli(['plugins', 'info', 'BinaryGateOptm']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('error [MODNAS_E_REGISTRY_MISSING]: no installed plugin provides "BinaryGateOptm". Did you mean "BinaryGateOptim"?');
    const o = await cli(['plugins', 'info', 'FancyConf']);
    expect(o.code).toBe(2);
    expect(o.err).toContain('Did you mean "FancyConv"');
  });
});

describe('modnas schema', () => {
  it('--out writes the schema of the installed plugins; an example config fits it key by key', async () => {
    const file = join(tmp, 'out', 'modnas.schema.json');
    const r = await cli(['schema', '--out', file]);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`# yaml-language-server: $schema=${file}`);
    const schema = JSON.parse(readFileSync(file, 'utf8')) as Schema;
    expect(schema.$defs['optim.BinaryGateOptim']).toEqual(committed.$defs['optim.BinaryGateOptim']);
    // every top-level key of the config is a property; each component's type and keys are those of one $def that its slot allows
    const cfg = { data: { type: 'Synthetic', size: 16, test_size: 8, image_size: 8, num_classes: 4 }, model: { type: 'MobileNetV2' }, trainer: { type: 'DefaultTrainer', batch_size: 8 }, optim: { type: 'BinaryGateOptim', lr: 0.1 }, estim: { search: { type: 'SuperNetEstimator', epochs: 1 } } };
    const refsOf = (node: Schema): string[] => (node.anyOf ?? []).map((b) => b.$ref ?? '').filter(Boolean);
    for (const [key, spec] of Object.entries(cfg)) {
      const node = schema.properties[key];
      expect(node, key).toBeDefined();
      const slot = key === 'estim' ? (node.additionalProperties as Schema) : node;
      const comp = key === 'estim' ? Object.values(spec)[0] : spec;
      const def = refsOf(slot).map((ref) => schema.$defs[ref.replace('#/$defs/', '')]).find((d) => d.properties.type.enum?.includes((comp as { type: string }).type));
      expect(def, `${key}: ${(comp as { type: string }).type}`).toBeDefined();
      for (const k of Object.keys(comp)) expect(def!.properties, `${key}.${k}`).toHaveProperty(k);
    }
    // the outside plugin's code is no plugin (it exports {}): left out, with a warning, and the rest is there
    expect(r.err).toContain('warning: plugin modnas-plugin-outside is left out');
    expect(Object.keys(schema.$defs).length).toBeGreaterThan(40);
  });
});

describe('configs and runs', () => {
  it('a mistyped outside id in a config gets a did-you-mean from its manifest, exit 2', async () => {
    const f = join(project, 'typo.yaml');
    writeFileSync(f, SEARCH.replace('primitives: [MB3E3, MB3E6]', 'primitives: [MB3E3, FancyConvv]'));
    const r = await cli(['run', f, '--check']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown primitive "FancyConvv"\. Did you mean "FancyConv(Op)?"/);
  });

  it('--check names each component id once (with a count), not once per Slot', async () => {
    const r = await cli(['run', searchFile, '--check']);
    expect(r.code, r.err).toBe(0);
    const ids = /config OK: \d+ components \((.*)\)/.exec(r.out)![1].split(', ').map((s) => s.replace(/ ×\d+$/, ''));
    expect(ids).toContain('MB3E3');
    expect(ids.length).toBe(new Set(ids).size);
    expect(r.out).toMatch(/MB3E3 ×[2-9]/);
  });

  it('run --json prints the run summary as JSON on stdout (logs on stderr); its estims are those of summary.json; report --json too', async () => {
    const r = await cli(['run', searchFile, '--json']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out) as { name: string; outputDir: string; estims: Record<string, unknown> };
    expect(summary.name).toBe('tiny');
    expect(Object.keys(summary.estims)).toEqual(['search']);
    const written = JSON.parse(readFileSync(join(summary.outputDir, 'outputs', 'summary.json'), 'utf8')) as { estims: unknown };
    expect(summary.estims).toEqual(written.estims);
    const rep = await cli(['report', summary.outputDir, '--json']);
    expect(rep.code, rep.err).toBe(0);
    const report = JSON.parse(rep.out) as { runs: Array<{ status: string }>; summary: { estims: unknown } };
    expect(report.runs.map((x) => x.status)).toEqual(['done']);
    expect(report.summary.estims).toEqual(written.estims);

    // train on what it found: the note names the epochs -o sets (the search config says 1)
    const t = await cli(['train', searchFile, '--arch', join(summary.outputDir, 'outputs', 'arch_search_best.yaml'), '-o', 'estim.train.epochs=2', '--check']);
    expect(t.code, t.err).toBe(0);
    expect(t.err).toContain('estim: a plain DefaultEstimator "train" (2 epochs) in place of');
  });
});
