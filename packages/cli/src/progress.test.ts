// The progress bar and log lines share stderr: what a terminal shows after the bytes TtyProgress
// writes. A log line (a plugin's logger.info) printed while a bar is drawn must stand on a line of
// its own, with the bar drawn again under it, nested bars included.
import { describe, expect, it } from 'vitest';
import { TtyProgress } from './progress.js';

/** The lines a terminal shows for what was written: \r goes to column 0, ESC[2K clears the line, \n ends it. */
function screen(written: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  for (let i = 0; i < written.length; i++) {
    const ch = written[i];
    if (written.startsWith('\x1b[2K', i)) {
      lines[lines.length - 1] = '';
      i += 3;
    } else if (ch === '\r') col = 0;
    else if (ch === '\n') {
      lines.push('');
      col = 0;
    } else {
      const l = lines[lines.length - 1];
      lines[lines.length - 1] = l.slice(0, col).padEnd(col) + ch + l.slice(col + 1);
      col++;
    }
  }
  return lines;
}

function terminal(): { out: { write(s: string): boolean; columns: number }; shown(): string[] } {
  let written = '';
  return {
    out: {
      write: (s: string) => {
        written += s;
        return true;
      },
      columns: 200,
    },
    shown: () => screen(written),
  };
}

describe('TtyProgress', () => {
  it('a log line printed while a bar is drawn gets a line of its own, and the bar is drawn again under it', () => {
    const t = terminal();
    const p = new TtyProgress(t.out);
    const task = p.start('search', 4);
    task.tick(1);
    p.printAbove('plugin says hello');
    const shown = t.shown();
    expect(shown).toContain('plugin says hello');
    expect(shown.at(-1)).toMatch(/^search \[#+\.+\]\s+25% 1\/4/);
    task.done();
    expect(t.shown().at(-2)).toMatch(/^search: done in/);
  });

  it('nested bars: the inner one takes the line; after it finishes, a log line is not glued onto the outer bar', () => {
    const t = terminal();
    const p = new TtyProgress(t.out);
    const epochs = p.start('estim search', 2);
    const steps = p.start('epoch 1', 3);
    // the inner bar replaced the outer one on the line: no bar glued after another
    expect(t.shown().at(-1)).toMatch(/^epoch 1 \[/);
    steps.tick(3);
    steps.done();
    epochs.tick(1);
    p.printAbove('[SuperNetEstimator] epoch 1: acc=0.5');
    const shown = t.shown();
    expect(shown).toContain('[SuperNetEstimator] epoch 1: acc=0.5');
    expect(shown.filter((l) => l.includes('acc=0.5'))).toEqual(['[SuperNetEstimator] epoch 1: acc=0.5']);
    expect(shown.some((l) => /^epoch 1: done in/.test(l))).toBe(true);
    // the outer bar is back on the last line, alone
    expect(shown.at(-1)).toMatch(/^estim search \[#+\.+\]\s+50% 1\/2/);
    epochs.done();
    expect(t.shown().at(-2)).toMatch(/^estim search: done in/);
    expect(t.shown().at(-1)).toBe('');
  });

  it('a log line with no bar open is written as it is', () => {
    const t = terminal();
    const p = new TtyProgress(t.out);
    p.printAbove('plain');
    expect(t.shown()).toEqual(['plain', '']);
  });
});
