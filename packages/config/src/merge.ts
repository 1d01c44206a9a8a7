import { parse as parseYaml } from 'yaml';
import { ModnasError } from '@modnas/core';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Keys that would reach Object.prototype (prototype pollution) when a config is merged. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Refuse __proto__ / constructor / prototype anywhere in a config value. */
export function assertSafeKeys(value: unknown, where: string, path = ''): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertSafeKeys(v, where, `${path}${path ? '.' : ''}${i}`));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const k of Object.keys(value)) {
    const at = `${path}${path ? '.' : ''}${k}`;
    if (FORBIDDEN_KEYS.has(k)) throw forbiddenKey(at, where);
    assertSafeKeys((value as Record<string, unknown>)[k], where, at);
  }
}

function forbiddenKey(at: string, where: string): ModnasError {
  return new ModnasError('MODNAS_E_CONFIG_KEY', `${at}: the key "${at.split('.').pop()}" is not allowed in a config (__proto__, constructor and prototype would change every object of the program)`, {
    fix: `remove or rename ${at}`,
    where,
  });
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
    const segments = key.split('.');
    if (segments.some((k) => k === '')) {
      throw new ModnasError('MODNAS_E_CONFIG_OVERRIDE', `override "${o}": the key "${key}" has an empty part`, { fix: 'write dotted keys like estim.search.epochs=2', where: `-o ${o}` });
    }
    const bad = segments.find((k) => FORBIDDEN_KEYS.has(k));
    if (bad) throw forbiddenKey(key, `-o ${o}`);
    let value: Json;
    try {
      value = raw === '' ? '' : (parseYaml(raw, { logLevel: 'error' }) as Json);
    } catch {
      value = raw;
    }
    assertSafeKeys(value, `-o ${o}`, key);
    out = setPath(out, segments, value);
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
