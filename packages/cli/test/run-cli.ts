/** What the cli's end-to-end tests share: the built `modnas` command, run in the repository root. */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The built command (packages/cli/dist/bin.js). */
export const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');

/** Run `modnas <args>` to its end on the wasm engine (unless `env` says otherwise): its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, MODNAS_BACKEND: 'wasm', ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => res({ code, stdout, stderr }));
  });
}
