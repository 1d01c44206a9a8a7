// `modnas ui` and `modnas report --html` as commands: bad input exits 2 with the coded error and
// its fix (the dashboard itself is tested in @modnas/ui, in Chromium too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Io } from './main.js';
import { main } from './main.js';

function capture(): Io & { text(): string } {
  const lines: string[] = [];
  return { out: (s) => void lines.push(s), err: (s) => void lines.push(s), isTTY: false, text: () => lines.join('\n') };
}

describe('modnas ui / report --html', () => {
  const empty = mkdtempSync(join(tmpdir(), 'modnas-cli-ui-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('a folder without a store is refused with the fix', async () => {
    const io = capture();
    expect(await main(['ui', empty, '--port', '0'], io)).toBe(2);
    expect(io.text()).toMatch(/MODNAS_E_UI_NO_STORE.*modnas run/s);
  });

  it('a bad port and a report without its output file are usage errors', async () => {
    const io = capture();
    expect(await main(['ui', empty, '--port', 'x'], io)).toBe(2);
    expect(io.text()).toContain('MODNAS_E_CLI_USAGE');
    const io2 = capture();
    expect(await main(['report', empty, '--html'], io2)).toBe(2);
    expect(io2.text()).toContain('MODNAS_E_CLI_USAGE');
    const io3 = capture();
    expect(await main(['report', empty, '--html', join(empty, 'r.html')], io3)).toBe(2);
    expect(io3.text()).toContain('MODNAS_E_UI_NO_STORE');
  });

  it('both are in the help', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.text()).toMatch(/modnas ui \[folder\]/);
    expect(io.text()).toMatch(/modnas report <experiment-dir> --html <out\.html>/);
  });
});
