// A benchmark worker process spoken to in JSON lines (one command in, one result out): what
// bench/run.mjs runs for each engine and for PyTorch, and bench/engine/dispatch.mjs for each build.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export class LineWorker {
  /** Start `cmd argv` in `cwd` with the environment plus `env`; its stderr goes to ours. */
  constructor(cmd, argv, env, cwd) {
    this.proc = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'], cwd });
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }
  /** Send one command and wait for its answer; an answer with `error` throws it. */
  async ask(cmd) {
    this.proc.stdin.write(`${JSON.stringify(cmd)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`worker exited (${JSON.stringify(cmd)})`);
    const out = JSON.parse(value);
    if (out.error) throw new Error(out.error);
    return out;
  }
  close() {
    this.proc.stdin.end();
  }
}
