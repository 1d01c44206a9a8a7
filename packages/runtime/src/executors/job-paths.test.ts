import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isModnasError } from '@modnas/core';
import { afterAll, describe, expect, it } from 'vitest';
import { checkJobPaths, pathEscape, workerFolders } from './job-paths.js';

// A worker folder with data inside, a folder outside it, an extra allowed folder, and links both ways.
const base = realpathSync(mkdtempSync(join(tmpdir(), 'modnas-paths-')));
const work = join(base, 'work');
const outside = join(base, 'outside');
const extra = join(base, 'extra');
for (const d of [join(work, 'data'), outside, extra]) mkdirSync(d, { recursive: true });
writeFileSync(join(outside, 'secret.txt'), 'nobody reads this');
symlinkSync(outside, join(work, 'link-out'));
symlinkSync(join(work, 'data'), join(extra, 'link-in'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const folders = workerFolders(work, [extra]);

describe('pathEscape: a string used as a path must stay inside the worker\'s folders', () => {
  it('names, relative paths inside and absolute paths into an allowed folder pass', () => {
    for (const ok of ['MB3E6', 'relu6', '', 'data', './data/train', 'data/../data/x.yaml', 'not-there-yet/cache', join(work, 'data'), join(extra, 'x.bin'), join(extra, 'link-in', 'a'), '- MB3E3\n- IDT', 'redis://10.0.0.5:6379']) {
      expect([ok, pathEscape(ok, folders)]).toEqual([ok, undefined]);
    }
  });

  it('absolute paths elsewhere, climbing out, links out, ~, file: URLs and NUL are refused with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['/etc/passwd', /absolute path outside/],
      [join(outside, 'secret.txt'), /absolute path outside/],
      [`${work}/../outside/secret.txt`, /absolute path outside/],
      ['../outside/secret.txt', /relative path that leads out/],
      ['..', /relative path that leads out/],
      ['data/../../outside', /relative path that leads out/],
      [`data/${'./'.repeat(3000)}../../outside/secret.txt`, /relative path that leads out/],
      ['link-out/secret.txt', /relative path that leads out/],
      [join(work, 'link-out'), /absolute path outside/],
      ['~/.ssh/id_rsa', /home folder/],
      ['~', /home folder/],
      [pathToFileURL(join(outside, 'secret.txt')).href, /file: URL/],
      ['FILE:///etc/passwd', /file: URL/],
      ['data\0/x', /NUL byte/],
    ];
    for (const [bad, why] of cases) expect([bad.slice(0, 60), pathEscape(bad, folders)]).toEqual([bad.slice(0, 60), expect.stringMatching(why)]);
  });

  it('without --allow-dir only the working folder counts', () => {
    expect(pathEscape(join(extra, 'x.bin'), workerFolders(work))).toMatch(/absolute path outside/);
  });
});

describe('checkJobPaths', () => {
  const thrown = (config: Record<string, unknown>): { code: string; message: string } | undefined => {
    try {
      checkJobPaths(config, folders, 'host:1');
      return undefined;
    } catch (e) {
      if (isModnasError(e)) return e;
      throw e;
    }
  };

  it('walks every value of the keys a worker builds from and names the dotted key, the value and the fix', () => {
    const e = thrown({ seed: 1, data: { type: 'ImageFolder', path: 'data' }, construct: [{ type: 'X' }, { type: 'Y', arch_desc: '/etc/passwd' }] });
    expect(e?.code).toBe('MODNAS_E_WORKER_PATH');
    expect(e?.message).toContain('construct[1].arch_desc is an absolute path outside the worker\'s folders ("/etc/passwd")');
    expect(e?.message).toContain('--allow-dir');
    expect(e?.message).toContain('where: worker host:1, key construct[1].arch_desc');
    // the worker's own folders are not told
    expect(e?.message).not.toContain(work);
    expect(thrown({ estim: { search: { type: 'S', list: ['a', ['b', '../../x']] } } })?.message).toContain('estim.search.list[1][1] is a relative path');
  });

  it('skips what a worker never builds (the coordinator\'s output folder, store, executor, exports), and object keys', () => {
    expect(
      thrown({
        name: 'exp',
        output_dir: '/srv/experiments',
        store: { type: 'SqliteStore', path: '/srv/db' },
        executor: { type: 'BullMQExecutor', secret_file: '/etc/modnas/secret', redis_password_file: '/etc/modnas/redis.pw' },
        export: { best: { type: 'E', path: '/srv/out' } },
        callbacks: { c: { file: '/var/log/x' } },
        optim: { type: 'O', predictor: '/srv/model' },
        metrics: { '/not/a/path': { type: 'FLOPs' } },
        data: { type: 'MNIST', path: 'data' },
      }),
    ).toBeUndefined();
  });

  it('a long value is shown cut short', () => {
    const e = thrown({ data: { path: `/${'a'.repeat(500)}` } });
    expect(e?.message).toMatch(/"\/a{119}\.\.\."/);
  });
});
