import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ModnasError, isModnasError } from '@modnas/core';

/** Error codes of writes that failed because of the disk or the folder, not of modnas. */
export const IO_CODES = {
  /** The disk (or quota) is full: ENOSPC, EDQUOT, SQLITE_FULL. */
  full: 'MODNAS_E_IO_DISK_FULL',
  /** The folder cannot be written: EACCES, EPERM, EROFS, ENOTDIR, SQLITE_READONLY, SQLITE_CANTOPEN. */
  unwritable: 'MODNAS_E_IO_UNWRITABLE',
  /** Any other failed write (EIO, a path that is a file, ...). */
  failed: 'MODNAS_E_IO_WRITE',
  /** Not the disk: a native module (better-sqlite3's, an engine's) built for another Node.js version or platform. */
  nativeModule: 'MODNAS_E_NATIVE_MODULE',
} as const;

/** What Node and the loaders say when a .node file was built for another Node.js (ABI) or platform. */
const NATIVE_MISMATCH = /NODE_MODULE_VERSION|compiled against a different Node\.js version|Module did not self-register|invalid ELF header|wrong ELF class|not a valid Win32 application|incompatible architecture/i;

/**
 * A native module that does not load because it was built for another Node.js version or
 * platform (a project installed under one Node and run under another): said as such, with the
 * rebuild that fixes it, instead of as a disk problem. undefined for any other error.
 */
export function nativeModuleError(e: unknown, what: string): ModnasError | undefined {
  const msg = (e as Error)?.message ?? String(e);
  if (!NATIVE_MISMATCH.test(msg)) return undefined;
  const file = /(?:module|file) '([^']+\.node)'/i.exec(msg)?.[1] ?? /(\S+\.node)\b/.exec(msg)?.[1];
  const versions = /NODE_MODULE_VERSION (\d+)[\s\S]*?NODE_MODULE_VERSION (\d+)/.exec(msg);
  const built = versions ? ` (built for NODE_MODULE_VERSION ${versions[1]}; Node ${process.version} needs ${versions[2]})` : '';
  const pkg = file ? /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](?!.*node_modules)/.exec(file)?.[1]?.replace(/\\/g, '/') : undefined;
  return new ModnasError(IO_CODES.nativeModule, `${what} could not be opened: the native module ${file ?? ''} was built for another Node.js version or platform${built}, not for this Node ${process.version} (${process.platform}-${process.arch})`.replace('module  was', 'module was'), {
    fix: `rebuild it with this Node: npm rebuild${pkg ? ` ${pkg}` : ''} (pnpm: pnpm rebuild${pkg ? ` ${pkg}` : ''}); where npm builds against another Node's headers (npm config get nodedir), point npm_config_nodedir at this Node's (its folder above bin/)`,
    cause: e,
  });
}

const FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
// ENOTDIR/EISDIR: a part of the path is a file (or the file a folder): the setting is wrong, like a read-only folder.
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM']);

/**
 * Why a path that does not exist cannot be made, when the reason is its nearest existing folder:
 * a read-only file system or a folder without write permission ("EROFS at /mnt/ro"). Node's
 * recursive mkdir reports ENOENT there instead of EROFS/EACCES, which would read as a vanished folder.
 */
function unwritableAncestor(path: string): string | undefined {
  const target = resolve(path);
  let at = target;
  while (!existsSync(at)) {
    const up = dirname(at);
    if (up === at) return undefined;
    at = up;
  }
  if (at === target) return undefined;
  try {
    if (!statSync(at).isDirectory()) return `ENOTDIR at ${at}`;
    accessSync(at, constants.W_OK);
    return undefined;
  } catch (e) {
    return `${String((e as { code?: unknown }).code ?? 'EACCES')} at ${at}`;
  }
}

/**
 * Turn a failed write into a ModnasError that names the file and the fix (the cause stays in
 * `cause`). `what` says what was being written ("the experiment store", "logs/run.log").
 * A ModnasError passes through unchanged.
 */
export function ioError(e: unknown, what: string, path: string): ModnasError {
  if (isModnasError(e)) return e;
  const native = nativeModuleError(e, what);
  if (native) return native;
  let code = String((e as { code?: unknown })?.code ?? '');
  const msg = (e as Error)?.message ?? String(e);
  if (code === 'ENOENT') code = unwritableAncestor(path) ?? code;
  if (FULL.has(code) || /ENOSPC|disk is full|database or disk is full/i.test(msg)) {
    return new ModnasError(IO_CODES.full, `writing ${what} failed: the disk is full (${code || msg}) at ${path}. Nothing written before is lost: the store keeps every finished step`, {
      fix: `free space on the disk of ${path} (df -h ${path}), or pass --output-dir <a folder on a disk with space>; then continue with "modnas run <config> --resume"`,
      where: path,
      cause: e,
    });
  }
  if (UNWRITABLE.has(code.split(' ')[0]) || /EACCES|EPERM|EROFS|readonly|unable to open database/i.test(msg)) {
    return new ModnasError(IO_CODES.unwritable, `cannot write ${what}: ${path} is not writable (${code || msg})`, {
      fix: `pass --output-dir <a folder you can write> (config key output_dir), or make it writable (chmod u+w ${path})`,
      where: path,
      cause: e,
    });
  }
  return new ModnasError(IO_CODES.failed, `writing ${what} at ${path} failed: ${msg}`, {
    fix: `check the disk and the folder ${path} (dmesg may say more), then continue with "modnas run <config> --resume"`,
    where: path,
    cause: e,
  });
}

/** Run a write and convert its failure with ioError. */
export function guardedWrite<T>(what: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw ioError(e, what, path);
  }
}
