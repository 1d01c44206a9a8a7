// Property-based fuzzing of what users hand the CLI: configs, -o overrides and arch files. Every
// generated input ends in a validated plan (and, for arch files, a built network) or in a coded
// ModnasError — never an uncoded error, a hang, or a runaway allocation.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { JsonObject } from '@modnas/config';
import { isModnasError, silentLogger } from '@modnas/core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildNetwork, componentFactory } from './build.js';
import { experimentScope } from './scope.js';
import { prepareExperiment } from './experiment.js';
import { MemoryExperimentStore } from '@modnas/services';
import { EventBus, silentProgress } from '@modnas/core';

const dir = mkdtempSync(join(tmpdir(), 'modnas-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small search that validates (and builds in milliseconds): what the mutations start from. */
const BASE: JsonObject = {
  name: 'fuzz',
  output_dir: join(dir, 'exp'),
  data: { type: 'Synthetic', size: 16, test_size: 8, image_size: 8, num_classes: 4 },
  data_provider: { train_portion: 0.5 },
  model: { type: 'MobileNetV2', cfgs: [[0, 8, 1, 1], [1, 8, 1, 1], [6, 16, 2, 2]] },
  construct: { search: { type: 'MobileNetV2SearchConstructor', mixed_op: { type: 'BinGate' }, primitives: ['MB3E3', 'MB3E6'] } },
  trainer: { type: 'DefaultTrainer', lr: 0.05, batch_size: 8 },
  optim: { type: 'BinaryGateOptim' },
  estim: { warmup: { type: 'DefaultEstimator', epochs: 1 }, search: { type: 'SuperNetEstimator', epochs: 1 } },
  export: { default: { type: 'DefaultSlotTraversalExporter' } },
};

/** Every dotted path of an object (the keys a mutation may hit). */
function paths(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [];
  return Object.entries(o).flatMap(([k, v]) => [prefix + k, ...paths(v, `${prefix}${k}.`)]);
}
const PATHS = paths(BASE);

/** Values users (and attackers) write: numbers at the edges, strings that look like ids, keys of Object.prototype, nesting. */
const nasty = fc.oneof(
  fc.constantFrom(0, -1, 1e12, -1e308, Number.MAX_SAFE_INTEGER, 0.5, 1e-300, 2 ** 31, NaN, Infinity),
  fc.constantFrom('', '..', '../../etc/passwd', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'MB3E3', 'NIL', 'IDT', 'Synthetic', 'x'.repeat(5000)),
  fc.constantFrom(null, true, false, [], {}, [[]], { type: '__proto__' }, { type: 'toString' }, { constructor: { prototype: { polluted: 1 } } }),
  fc.jsonValue({ maxDepth: 3 }),
);

function setPath(o: JsonObject, path: string, value: unknown): JsonObject {
  const copy = structuredClone(o) as Record<string, unknown>;
  const keys = path.split('.');
  let cur: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  Object.defineProperty(cur, keys[keys.length - 1], { value, enumerable: true, writable: true, configurable: true });
  return copy as JsonObject;
}

/** Resolves to 'ok' or the error's code; fails the property on an uncoded error. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (!isModnasError(e)) throw new Error(`an uncoded error escaped: ${(e as Error)?.stack ?? String(e)}`);
    return e.code;
  }
}

const RUNS = Number(process.env.MODNAS_FUZZ_RUNS) || 1500;

describe('fuzz: configs, overrides and arch files end in a plan or a coded error', () => {
  it(`${RUNS} mutated configs (values, unknown keys, prototype keys, deleted keys)`, async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), nasty, fc.constantFrom('set', 'delete', 'extra'), async (path, value, how) => {
        let cfg: JsonObject;
        if (how === 'delete') cfg = setPath(BASE, path, undefined);
        else if (how === 'extra') cfg = setPath(BASE, `${path}.${typeof value === 'string' && value.length < 40 ? value || 'k' : 'zz'}`, value);
        else cfg = setPath(BASE, path, value);
        const t0 = Date.now();
        const code = await outcome(prepareExperiment(JSON.parse(JSON.stringify(cfg)) as JsonObject, [], { discover: false }));
        seen.set(code, (seen.get(code) ?? 0) + 1);
        expect(Date.now() - t0, `${path} ${how} ${JSON.stringify(value)?.slice(0, 80)}`).toBeLessThan(5000);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: RUNS, seed: 42 },
    );
    // the generator reaches both ends: plans that validate and refusals
    expect(seen.get('ok')).toBeGreaterThan(0);
    expect(seen.get('MODNAS_E_CONFIG_INVALID')).toBeGreaterThan(0);
  }, 300_000);

  it(`${RUNS} -o overrides (keys and YAML values, well- and ill-formed)`, async () => {
    const key = fc.oneof(fc.constantFrom(...PATHS), fc.stringMatching(/^[a-z_.[\]0-9]{0,30}$/), fc.constantFrom('__proto__.x', 'constructor.prototype.x', 'estim..x', '.', ''));
    const val = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('{', '[1, 2', '*a', '&a [1]', '!!js/function x', '1e999', '~', '{type: toString}', 'null'), nasty.map((v) => JSON.stringify(v) ?? 'null'));
    await fc.assert(
      fc.asyncProperty(key, val, fc.boolean(), async (k, v, withEq) => {
        await outcome(prepareExperiment(structuredClone(BASE), [withEq ? `${k}=${v}` : k], { discover: false }));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: RUNS, seed: 7 },
    );
  }, 300_000);

  it('300 arch files (YAML text and structures) validate and build, or are refused with a code', async () => {
    const entry = fc.oneof(fc.constantFrom('MB3E3', 'MB3E6', 'NIL', 'IDT', 'FOO', '__proto__', 'toString', '', null), nasty);
    const body = fc.oneof(
      fc.array(entry, { maxLength: 8 }).map((a) => JSON.stringify(a)),
      fc.string({ maxLength: 200 }),
      nasty.map((v) => JSON.stringify(v) ?? ''),
      fc.constantFrom('', '---', '- a\n  - b', '[[[[', '- !!binary abc', 'a: &x [*x]'),
    );
    let i = 0;
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const file = join(dir, `arch-${i++}.yaml`);
        writeFileSync(file, text);
        const code = await outcome(
          (async () => {
            const { plan } = await prepareExperiment(structuredClone(BASE), [], { discover: false, train: { archDesc: file } });
            // a description that validates must also build (where "TypeInfo not known" used to escape)
            const logger = silentLogger;
            const scope = experimentScope(plan, { logger, events: new EventBus(), progress: silentProgress, store: new MemoryExperimentStore() });
            const env = { plan, registry: (await import('@modnas/core')).getRegistry(), container: scope.container, space: scope.space, rng: scope.rng, logger };
            const built = await buildNetwork(env, componentFactory(env));
            built.trainer?.dispose();
            built.model.dispose();
            scope.space.dispose();
          })(),
        );
        expect(typeof code).toBe('string');
      }),
      { numRuns: 300, seed: 3 },
    );
  }, 300_000);
});
