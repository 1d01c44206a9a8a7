import type { z } from '@modnas/core';
import { optionsJsonSchema } from '@modnas/runtime';

/** One option of a component, as `modnas plugins info` shows it. */
export interface OptionInfo {
  /** Dotted for a nested object's keys (`early_stop.min_epochs`). */
  key: string;
  type: string;
  /** Absent when the option has no default (it is required, or may be left out). */
  default?: unknown;
  description: string;
  required: boolean;
}

export interface ComponentInfo {
  kind: string;
  id: string;
  aliases: string[];
  package: string;
  version: string;
  description: string;
  options: OptionInfo[];
}

type Node = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Node[];
  oneOf?: Node[];
  items?: Node;
  prefixItems?: Node[];
  properties?: Record<string, Node>;
  required?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

/** A JSON Schema node's type in a word or two: `integer`, `"flops" | "params"`, `number[]`, `object | null`. */
function typeOf(n: Node): string {
  if (n.enum) return n.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (n.const !== undefined) return JSON.stringify(n.const);
  const alts = n.anyOf ?? n.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' | ');
  if (n.type === 'array') return n.prefixItems ? `[${n.prefixItems.map(typeOf).join(', ')}]` : `${n.items ? typeOf(n.items) : 'any'}[]`;
  if (Array.isArray(n.type)) return n.type.join(' | ');
  return n.type ?? 'any';
}

/** The object branch of a node (`{...}` or `{...} | null`), whose keys are shown dotted. */
function objectOf(n: Node): Node | undefined {
  if (n.properties) return n;
  return (n.anyOf ?? n.oneOf)?.find((b) => b.properties);
}

function walk(n: Node, prefix: string, out: OptionInfo[]): void {
  const required = new Set(n.required ?? []);
  for (const [k, child] of Object.entries(n.properties ?? {})) {
    const key = prefix + k;
    const desc = child.description ?? (child.anyOf ?? child.oneOf)?.find((b) => b.description)?.description ?? '';
    const opt: OptionInfo = { key, type: typeOf(child), description: desc, required: required.has(k) && child.default === undefined };
    if (child.default !== undefined) opt.default = child.default;
    out.push(opt);
    const obj = objectOf(child);
    if (obj) walk(obj, `${key}.`, out);
  }
}

/** Every option of a component's zod schema (zod 4's JSON Schema of its input), nested objects' keys dotted. */
export function componentOptions(schema: z.ZodType): OptionInfo[] {
  const out: OptionInfo[] = [];
  walk(optionsJsonSchema(schema), '', out);
  return out;
}

/** `modnas plugins info` as text: a head, then one block per option. */
export function formatInfo(c: ComponentInfo): string {
  const lines = [`${c.id} (${c.kind}) from ${c.package} ${c.version}`];
  if (c.description) lines.push(`  ${c.description}`);
  lines.push(`aliases: ${c.aliases.length ? c.aliases.join(', ') : '-'}`);
  if (c.options.length === 0) {
    lines.push('options: none');
    return lines.join('\n');
  }
  lines.push(`options (${c.options.length}):`);
  const width = Math.max(...c.options.map((o) => o.key.length));
  for (const o of c.options) {
    const dflt = o.default !== undefined ? `default ${JSON.stringify(o.default)}` : o.required ? 'required' : 'no default';
    lines.push(`  ${o.key.padEnd(width)}  ${o.type}, ${dflt}`);
    if (o.description) lines.push(`  ${' '.repeat(width)}  ${o.description}`);
  }
  return lines.join('\n');
}
