import { parse as parseYaml } from 'yaml';
import { ModnasError } from '@modnas/core';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else (lists too) is replaced by the later value. */
export function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** Apply `a.b.c=value` overrides; the value is read as YAML (numbers, booleans, lists). */
export function applyOverrides(config: JsonObject, overrides: readonly string[]): JsonObject {
  let out = config;
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) {
      throw new ModnasError('MODNAS_E_CONFIG_OVERRIDE', `override "${o}" is not of the form key=value`, { fix: 'write e.g. -o estim.search.epochs=2', where: `-o ${o}` });
    }
    const key = o.slice(0, eq).trim();
    const raw = o.slice(eq + 1);
    let value: Json;
    try {
      value = raw === '' ? '' : (parseYaml(raw) as Json);
    } catch {
      value = raw;
    }
    out = setPath(out, key.split('.'), value);
  }
  return out;
}

function setPath(obj: JsonObject, path: string[], value: Json): JsonObject {
  const [head, ...rest] = path;
  const out: JsonObject = { ...obj };
  if (rest.length === 0) {
    out[head] = value;
    return out;
  }
  const cur = out[head];
  if (Array.isArray(cur) && /^\d+$/.test(rest[0])) {
    const arr = [...cur];
    const i = Number(rest[0]);
    const inner = rest.slice(1);
    arr[i] = inner.length === 0 ? value : setPath(isObject(arr[i]) ? (arr[i]) : {}, inner, value);
    out[head] = arr;
    return out;
  }
  out[head] = setPath(isObject(cur) ? cur : {}, rest, value);
  return out;
}

/** Read a dotted path (undefined where absent). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.').filter(Boolean)) {
    if (Array.isArray(cur) && /^\d+$/.test(k)) cur = cur[Number(k)];
    else if (isObject(cur)) cur = cur[k];
    else return undefined;
  }
  return cur;
}
