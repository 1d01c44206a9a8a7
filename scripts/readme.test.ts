// The README as a user copies it: every config block validates with the installed plugins (a
// fragment merged into the config before it), every `modnas` command line names a command that
// exists and only options its --help lists, and every repository file a command names exists.
// The configs themselves run elsewhere: the demo and quickstart (examples/), the npm block in a
// scratch project (npm-install.test.ts), the image-folder block (dataset-image-folder's tests).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readYamlFile } from '@modnas/config';
import { prepareExperiment } from '@modnas/runtime';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'packages/cli/dist/bin.js');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Block {
  lang: string;
  line: number;
  text: string;
}

function blocks(): Block[] {
  const out: Block[] = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(\w*)\s*$/.exec(lines[i]);
    if (!m) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    out.push({ lang: m[1], line: start + 1, text: body.join('\n') });
  }
  return out;
}

/** `modnas <command> [sub] ...` invocations in the shell blocks, comments and line continuations removed. */
function commandLines(): Array<{ line: number; words: string[] }> {
  const out: Array<{ line: number; words: string[] }> = [];
  for (const b of blocks().filter((x) => x.lang === 'sh' || x.lang === 'bash')) {
    b.text
      .replace(/\\\n/g, ' ')
      .split('\n')
      .forEach((raw, k) => {
        const text = raw.replace(/(^|\s)#.*$/, '');
        for (const part of text.split(/&&|\|\||;|\|/)) {
          const m = /(?:^|\s)(?:npx -y pnpm@\S+ |pnpm |npx )?modnas\s+(.*)$/.exec(part.trim());
          if (m) out.push({ line: b.line + k + 1, words: m[1].trim().split(/\s+/).filter(Boolean) });
        }
      });
  }
  return out;
}

const helps = new Map<string, string>();
function help(cmd: string[]): string {
  const key = cmd.join(' ');
  if (!helps.has(key)) {
    let text: string;
    try {
      text = execFileSync(process.execPath, [bin, ...cmd, '--help'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      text = `${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`;
    }
    helps.set(key, text);
  }
  return helps.get(key)!;
}

describe('the README, as a user copies it', () => {
  const yamlBlocks = blocks().filter((b) => b.lang === 'yaml' || b.lang === 'yml');

  it('has the config blocks this test knows (a new one must be added here)', () => {
    // the latency fragment, the image-folder search, the npm scratch search, the DARTS search, the executor fragment
    expect(yamlBlocks).toHaveLength(5);
  });

  it('every config block validates with the installed plugins (a fragment merged into the config before it)', async () => {
    // a fragment before any full config adds to the quickstart's search, as the README says
    let last: Record<string, unknown> | undefined = readYamlFile(join(root, 'examples/quickstart/search.yaml'));
    const dir = mkdtempSync(join(tmpdir(), 'modnas-readme-'));
    for (const b of yamlBlocks) {
      const file = join(dir, `block-${b.line}.yaml`);
      writeFileSync(file, b.text);
      const doc = readYamlFile(file) as Record<string, unknown>;
      const config = doc.name ? doc : { ...last, ...doc };
      expect(config.name, `README line ${b.line}: a fragment with no config before it`).toBeDefined();
      // the image-folder block reads a folder of the user's photos: only its keys are checked here
      const runnable = { ...config, output_dir: dir };
      const { plan } = await prepareExperiment(runnable, [], { cwd: root });
      expect(plan.config.name, `README line ${b.line}`).toBe(config.name);
      if (doc.name) last = doc;
    }
  }, 60_000);

  it('every modnas command names a command that exists and only options its --help lists', () => {
    const lines = commandLines();
    expect(lines.length).toBeGreaterThan(15);
    const top = help([]);
    const problems: string[] = [];
    for (const { line, words } of lines) {
      const [cmd, sub] = words;
      if (cmd.startsWith('-')) continue; // `modnas --help`
      if (!new RegExp(`modnas ${cmd}\\b`).test(top)) {
        problems.push(`line ${line}: no command "${cmd}"`);
        continue;
      }
      const own = cmd === 'plugins' && sub && !sub.startsWith('-') ? [cmd, sub] : [cmd];
      const text = help(own) + help([cmd]);
      for (const flag of words.filter((w) => /^--?[a-z]/i.test(w)).map((w) => w.split('=')[0])) {
        if (flag === '--help') continue;
        if (!text.includes(flag)) problems.push(`line ${line}: "modnas ${own.join(' ')}" has no option ${flag}`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('every repository file a command names exists', () => {
    const missing: string[] = [];
    for (const { line, words } of commandLines()) {
      for (const w of words) {
        if (/^(examples|bench|packages|plugins|scripts)\//.test(w) && !existsSync(join(root, w))) missing.push(`line ${line}: ${w}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
