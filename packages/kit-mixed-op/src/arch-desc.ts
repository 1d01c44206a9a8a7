import { YAMLParseError, parse as parseYaml } from 'yaml';
import { ModnasError, Tokens, resolveToken, z } from '@modnas/core';
import { descFileIn, readDescFile, writeDescFile } from './files.js';
import type { BuildContext, Module, Slot } from '@modnas/core';

/**
 * Architecture descriptions (arch_desc): what exporters write and arch-desc constructors read.
 * A module that can say what it is implements `toArchDesc()`: a primitive returns its id
 * ('MB3E6'), a mixed op the desc of its chosen candidate.
 */
export interface ArchDescribable {
  toArchDesc(): unknown;
}

/** Fills one Slot from a (sub-)description; used by modules that build their own parts. */
export type ArchDescConvert = (slot: Slot, desc: unknown) => Promise<Module | undefined>;

/**
 * A module that builds its own Slots from a nested description (a cell from its edge list, a
 * network from its cell list), as DefaultRecursiveArchDescConstructor visits the tree.
 */
export interface BuildsFromArchDesc {
  buildFromArchDesc(desc: unknown, convert: ArchDescConvert): void | Promise<void>;
}

export function hasArchDesc(m: unknown): m is ArchDescribable {
  return typeof m === 'object' && m !== null && typeof (m as Partial<ArchDescribable>).toArchDesc === 'function';
}

/** The description of a module: `m.toArchDesc()` if it has one, else undefined. */
export function archDescOf(m: Module | undefined): unknown {
  return hasArchDesc(m) ? m.toArchDesc() : undefined;
}

/** The original writes one-element lists (`[MB3E6]`, top-1 of a mixed op): unwrap them. */
export function unwrapArchDesc(desc: unknown): unknown {
  return Array.isArray(desc) && desc.length === 1 ? desc[0] : desc;
}

/**
 * An arch_desc as given in a config: the description itself, the path of a YAML/JSON file, or YAML
 * text (as the original's parse_arch_desc). Files may hold any YAML value (a list, a mapping).
 */
export function parseArchDesc(desc: unknown, where?: string): unknown {
  if (typeof desc !== 'string') return desc;
  const looksLikeFile = /\.(ya?ml|json)$/i.test(desc.trim());
  const text = readDescFile(desc, where);
  if (text !== undefined) return parseText(text, /\.json$/i.test(desc) ? 'json' : 'yaml', `arch_desc file ${desc}`, where ?? desc);
  if (looksLikeFile) {
    throw new ModnasError('MODNAS_E_ARCHDESC_FILE', `arch_desc file ${desc} does not exist`, {
      fix: 'check the path (relative paths are read from the current directory), or give the description inline',
      where,
    });
  }
  return parseText(desc, 'yaml', 'arch_desc text', where);
}

function parseText(text: string, format: 'json' | 'yaml', what: string, where?: string): unknown {
  try {
    return format === 'json' ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (e) {
    const line = e instanceof YAMLParseError && e.linePos ? ` (line ${e.linePos[0].line})` : '';
    throw new ModnasError('MODNAS_E_ARCHDESC_SYNTAX', `${what} is not valid ${format.toUpperCase()}${line}: ${(e as Error).message.split('\n')[0]}`, {
      fix: `fix the ${format.toUpperCase()} syntax`,
      where,
      cause: e,
    });
  }
}

/** The code of an exporter's file path that leaves the experiment folder (or of a run that writes no folder). */
export const EXPORT_PATH_CODE = 'MODNAS_E_EXPORT_PATH';

/** The config keys of an exporter that also writes its description to a file. */
export const archDescFileFields = {
  path: z.string().min(1).nullable().default(null).describe('Also write the description to this file (atomically), relative to the experiment folder, which it may not leave; null: only return it'),
  format: z.enum(['yaml', 'json']).nullable().default(null).describe('Format of the file at path; null: by its extension (.json, else YAML)'),
};

/**
 * What writes an exporter's description to the file its config names: `path` resolved against the
 * experiment folder (Tokens.OutputDir), and refused with MODNAS_E_EXPORT_PATH, as the exporter is
 * built, when it leaves that folder (`..`, an absolute path elsewhere, a symbolic link out). A run
 * that writes no folder has none to resolve against: writing there is refused too, when tried.
 * Undefined when `path` is null (the exporter only returns its description).
 */
export function archDescWriter(ctx: BuildContext, path: string | null, format?: 'yaml' | 'json' | null, key = 'path'): ((desc: unknown) => void) | undefined {
  if (path === null) return undefined;
  const where = `${ctx.where}.${key}`;
  const folder = resolveToken(ctx.container, Tokens.OutputDir);
  const file = folder === undefined ? undefined : descFileIn(folder, path, EXPORT_PATH_CODE, where);
  return (desc) => {
    if (file === undefined) {
      throw new ModnasError(EXPORT_PATH_CODE, `${where}: this run writes no experiment folder to put ${path} in`, {
        fix: `run with files written, or set ${where} to null and use the returned description`,
        where,
      });
    }
    writeDescFile(file, desc, format ?? (/\.json$/i.test(file) ? 'json' : 'yaml'));
  };
}
