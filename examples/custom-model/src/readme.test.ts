// The README's plugin code, as written, passes the conformance suite: the optimizer of "Writing a
// plugin" (its package.json fields and entry) and the Slot backbone of "A search space from your own
// model" (registered as a backbone, no skipCreate). The blocks are copied into a scratch package whose
// node_modules is this example's, and imported from there.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModnasPlugin } from '@modnas/core';
import { describeConformance } from '@modnas/testkit';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

/** The code blocks of one `## ` section of the README, by language. */
function blocks(heading: string, lang: string): string[] {
  const at = readme.indexOf(`## ${heading}\n`);
  if (at < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const end = readme.indexOf('\n## ', at + 4);
  const section = readme.slice(at, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** A scratch package with the given entry and package.json, resolving imports through this example's node_modules. */
async function scratchPlugin(entry: string, pkg: Record<string, unknown>): Promise<{ plugin: ModnasPlugin; packageJson: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'modnas-readme-'));
  symlinkSync(fileURLToPath(new URL('../node_modules', import.meta.url)), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', ...pkg }));
  writeFileSync(join(dir, 'index.ts'), entry);
  const mod = (await import(join(dir, 'index.ts'))) as { default: ModnasPlugin };
  return { plugin: mod.default, packageJson: join(dir, 'package.json') };
}

const [manifest] = blocks('Writing a plugin', 'json');
const [entry] = blocks('Writing a plugin', 'ts');
const optim = await scratchPlugin(entry, { name: 'modnas-plugin-my-random', version: '0.1.0', ...(JSON.parse(`{${manifest}}`) as object) });
describeConformance(optim.plugin, { packageJson: optim.packageJson });

const [myNet] = blocks('A search space from your own model', 'ts');
const backbone = await scratchPlugin(
  `${myNet.replace("import { Module, Slot, tf } from '@modnas/core';", "import { Module, Slot, defineComponent, definePlugin, tf, z } from '@modnas/core';")}
export default definePlugin({
  meta: { name: 'readme-my-net', version: '0.1.0' },
  components: [defineComponent({ kind: 'backbone', id: 'MyNet', description: 'the README model', schema: z.strictObject({}), create: () => new MyNet() })],
});
`,
  { name: 'readme-my-net', version: '0.1.0', modnas: { schemaVersion: 1, kind: 'backbone', provides: ['MyNet'], aliases: {} } },
);
describeConformance(backbone.plugin, { packageJson: backbone.packageJson });
