import { pathToFileURL } from 'node:url';
import { ModnasError } from '@modnas/core';

/** How long a plugin's import may take (env MODNAS_PLUGIN_IMPORT_TIMEOUT_MS overrides). */
export const PLUGIN_IMPORT_TIMEOUT_MS = 20_000;

let guards = 0;
// Kept as the property descriptor, so no method is detached from `process`.
let realExit: PropertyDescriptor | undefined;
let importing: string[] = [];

/**
 * Import a plugin's entry so that a bad one cannot end the host: an import that never settles (a
 * top-level await on nothing) fails after a timeout naming the package, instead of Node exiting 0
 * with no output once the event loop is empty; a process.exit() during the import throws instead.
 */
export async function importPlugin(name: string, entry: string, timeoutMs = Number(process.env.MODNAS_PLUGIN_IMPORT_TIMEOUT_MS) || PLUGIN_IMPORT_TIMEOUT_MS): Promise<unknown> {
  if (guards++ === 0) {
    realExit = Object.getOwnPropertyDescriptor(process, 'exit');
    const refuse = (code?: number | string | null): never => {
      throw new ModnasError('MODNAS_E_PLUGIN_EXIT', `plugin ${importing.join(', ')} called process.exit(${code ?? ''}) while being imported; a plugin must not end the program`, {
        fix: `remove the process.exit call from the top level of ${importing.join(', ')} (or uninstall it: npm rm ${importing[0]})`,
        where: entry,
      });
    };
    Object.defineProperty(process, 'exit', { value: refuse, configurable: true, writable: true });
  }
  importing.push(name);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      // A live timer also keeps the event loop from emptying while the import hangs.
      timer = setTimeout(() => {
        reject(
          new ModnasError('MODNAS_E_PLUGIN_TIMEOUT', `importing plugin ${name} did not finish in ${timeoutMs / 1000}s: its entry (or a module it imports) awaits something that never settles`, {
            fix: `fix the top-level await in ${name}, or uninstall it (npm rm ${name}); MODNAS_PLUGIN_IMPORT_TIMEOUT_MS=<ms> allows a slower import`,
            where: entry,
          }),
        );
      }, timeoutMs);
    });
    return await Promise.race([import(pathToFileURL(entry).href), timeout]);
  } finally {
    clearTimeout(timer);
    importing = importing.filter((n) => n !== name);
    if (--guards === 0 && realExit) Object.defineProperty(process, 'exit', realExit);
  }
}
