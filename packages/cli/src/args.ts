import { parseArgs } from 'node:util';
import { ModnasError } from '@modnas/core';

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** node:util parseArgs, with usage errors as ModnasErrors that show the command's help (a function: made only then). */
export function parse(argv: string[], options: OptionSpec, usage: string | (() => string)): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values, positionals };
  } catch (e) {
    throw new ModnasError('MODNAS_E_CLI_USAGE', (e as Error).message, { fix: typeof usage === 'function' ? usage() : usage });
  }
}
