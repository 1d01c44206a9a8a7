import { describe, expect, it } from 'vitest';
import type { Row } from './filter.js';
import { FilterColumns, compileFilter, csvField, exportColumns, parseFilter, toCsv, toJson } from './filter.js';
import type { Trial } from './view.js';

const trials: Trial[] = [
  { id: 11, estim: 'search', index: 0, arch: { t_0: 'conv3', t_1: 'NIL', ch: 16 }, metrics: { flops: 2e6, acc: 0.9 }, status: 'done', score: 0.9, seconds: 1.5 },
  { id: 12, estim: 'search', index: 1, arch: { t_0: 'conv5', t_1: 'conv3', ch: 32 }, metrics: { flops: 4e6, acc: 0.95 }, status: 'done', score: 0.95 },
  { id: 13, estim: 'search', index: 2, arch: { t_0: 'NIL', t_1: 'conv3', ch: 16 }, metrics: { flops: 1e6 }, status: 'failed', score: null },
  { id: 14, estim: 'final', index: 3, arch: { t_0: 'conv3', t_1: 'conv5', ch: 64 }, metrics: { flops: 3e6, acc: 0.93 }, status: 'not run', score: 0.93, seconds: 9 },
];
const cols = new FilterColumns(trials);

/** The '#' of the trials the filter keeps, or its error. */
function run(text: string): number[] | string {
  const f = compileFilter(text, cols);
  if (!f.ok) return f.error;
  return trials.map((t, i) => i + 1).filter((pos) => !f.test || f.test(trials[pos - 1], pos));
}

describe('the trial filter', () => {
  it('comparisons on any column: score, metrics, arch params, status, #, seconds', () => {
    expect(run('score>0.92')).toEqual([2, 4]);
    expect(run('score >= 0.93')).toEqual([2, 4]);
    expect(run('flops<=3e6 and t_0=conv3')).toEqual([1, 4]);
    expect(run('status!=done')).toEqual([3, 4]);
    expect(run('#<3')).toEqual([1, 2]);
    expect(run('index=2')).toEqual([3]);
    expect(run('seconds>2')).toEqual([4]);
    expect(run('ch=16')).toEqual([1, 3]);
    expect(run('ch>=32')).toEqual([2, 4]);
    expect(run('estim=final')).toEqual([4]);
    expect(run('acc<0.94')).toEqual([1, 4]); // a trial without the metric is not below anything
    expect(run('flops=1000000')).toEqual([3]); // a number equals however written
    expect(run('flops==1e6')).toEqual([3]);
  });

  it('missing values: =null, !=null; text equality ignores case; ~ contains', () => {
    expect(run('score=null')).toEqual([3]);
    expect(run('score!=null')).toEqual([1, 2, 4]);
    expect(run('t_0=NIL')).toEqual([3]);
    expect(run('T_0=nil')).toEqual([3]); // column names too, when no exact one
    expect(run('t_1~conv')).toEqual([2, 3, 4]);
    expect(run('t_1!~conv')).toEqual([1]);
    expect(run('status="not run"')).toEqual([4]);
    expect(run("status='not run'")).toEqual([4]);
  });

  it('and / or / not / parentheses, juxtaposition is and, or binds loosest', () => {
    expect(run('t_0=conv3 or t_0=NIL')).toEqual([1, 3, 4]);
    expect(run('t_0=conv3 score>0.92')).toEqual([4]);
    expect(run('t_0=NIL or t_0=conv3 and score>0.92')).toEqual([3, 4]);
    expect(run('(t_0=NIL or t_0=conv3) and score>0.92')).toEqual([4]);
    expect(run('not status=done')).toEqual([3, 4]);
    expect(run('not (status=done or score=null)')).toEqual([4]);
    expect(run('t_0=conv3 && score<0.92 || index=1')).toEqual([1, 2]);
  });

  it('bare words match the estimator, status and arch JSON as before (the JSON of a choice, quotes and all)', () => {
    expect(run('"t_0":"NIL"')).toEqual([3]);
    expect(run('"t_0":"nil"')).toEqual([3]);
    expect(run('final')).toEqual([4]);
    expect(run('FAILED')).toEqual([3]);
    expect(run('conv5')).toEqual([2, 4]);
    expect(run('conv5 done')).toEqual([2]);
    expect(run('"not run"')).toEqual([4]);
    expect(run('"t_0')).toEqual([1, 2, 3, 4]); // an unclosed quote while typing is a character
    expect(run('')).toEqual([1, 2, 3, 4]);
    expect(run('   ')).toEqual([1, 2, 3, 4]);
  });

  it('clear errors, with where: never a throw', () => {
    expect(run('score>')).toMatch(/'score>' needs a value after '>' \(at 6\)/);
    expect(run('score>abc')).toMatch(/compares numbers: 'abc' is not one/);
    expect(run('flop<3e6')).toMatch(/unknown column 'flop' at 1: did you mean 'flops'\? \(columns: #, estim, index, status, score, flops, acc, seconds, arch, t_0, t_1, ch\)/);
    expect(run('(score>0.9')).toMatch(/the '\(' at 1 is not closed/);
    expect(run('score>0.9)')).toMatch(/unexpected '\)' at 10/);
    expect(run('score>0.9 and')).toMatch(/'and' at 11 needs a term after it/);
    expect(run('or score>1')).toMatch(/'or' at 1 needs a term before it/);
    expect(run('>3')).toMatch(/'>' at 1 needs a column before it/);
    expect(run('not')).toMatch(/'not' at 1 needs a term after it/);
    expect(run('()')).toMatch(/empty parentheses at 1/);
    const f = compileFilter('score>0.9 and x=1', cols);
    expect(f).toMatchObject({ ok: false, at: 14 });
  });

  it('parses to a tree', () => {
    expect(parseFilter('a=1 b or not c')).toEqual({
      kind: 'or',
      a: { kind: 'and', a: { kind: 'cmp', column: 'a', op: '=', value: '1', quoted: false, at: 0 }, b: { kind: 'text', text: 'b' } },
      b: { kind: 'not', a: { kind: 'text', text: 'c' } },
    });
    expect(parseFilter('')).toBeNull();
  });

  it('a column name taken twice goes to the table; the other is reached by arch.<p> or m:<metric>', () => {
    const clash: Trial[] = [{ id: 1, estim: 's', index: 0, arch: { score: 'big', acc: 'x' }, metrics: { acc: 0.5 }, status: 'done', score: 0.7 }];
    const c = new FilterColumns(clash);
    const keep = (text: string): boolean => {
      const f = compileFilter(text, c);
      if (!f.ok) throw new Error(f.error);
      return f.test!(clash[0], 1);
    };
    expect(keep('score>0.6')).toBe(true);
    expect(keep('arch.score=big')).toBe(true);
    expect(keep('acc=0.5')).toBe(true);
    expect(keep('arch.acc=x')).toBe(true);
    expect(keep('m:acc<0.6')).toBe(true);
  });
});

describe('the export', () => {
  const rows: Row[] = [3, 0].map((i) => ({ t: trials[i], pos: i + 1 }));

  it('CSV: the rows in the order given, one column per arch parameter, numbers in full, missing values empty', () => {
    const csv = toCsv(rows, exportColumns(trials));
    expect(csv).toBe(['#,estim,index,status,score,flops,acc,seconds,t_0,t_1,ch', '4,final,3,not run,0.93,3000000,0.93,9,conv3,conv5,64', '1,search,0,done,0.9,2000000,0.9,1.5,conv3,NIL,16', ''].join('\r\n'));
  });

  it('CSV fields: quoted when they hold a comma, quote or line break; formulas defused', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField(null)).toBe('');
    expect(csvField(NaN)).toBe('');
  });

  it('an arch parameter named like a table column is exported as arch.<name>', () => {
    const clash: Trial[] = [{ id: 1, estim: 's', index: 0, arch: { score: 'big' }, metrics: {}, status: 'done', score: 0.7 }];
    expect(exportColumns(clash).map((c) => c.label)).toEqual(['#', 'estim', 'index', 'status', 'score', 'seconds', 'arch.score']);
  });

  it('JSON: the trials as held, each with its #', () => {
    expect(JSON.parse(toJson(rows))).toEqual([
      { '#': 4, ...trials[3] },
      { '#': 1, ...trials[0] },
    ]);
  });
});
