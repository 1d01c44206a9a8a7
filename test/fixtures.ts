// Helpers the tests of several packages share. Not published, and not in @modnas/testkit: testkit
// depends on config and runtime, whose own tests use these (a build cycle). Import by relative path.
import type { AnyComponentDef, ComponentKind } from '@modnas/core';
import { isModnasError, z } from '@modnas/core';

/** A component with a schema and nothing behind it, for registry and validation tests. */
export const stub = (kind: ComponentKind, id: string, schema: z.ZodType = z.strictObject({}), extra: Partial<AnyComponentDef> = {}): AnyComponentDef => ({
  kind,
  id,
  description: 'stub',
  schema,
  create: () => ({}) as never,
  ...extra,
});

/** The error code and message a call or a promise fails with; message '(no error)' when it does not fail. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<{ code?: string; message: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return { code: isModnasError(e) ? e.code : undefined, message: (e as Error).message };
  }
  return { message: '(no error)' };
}
