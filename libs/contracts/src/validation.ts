import type { z } from 'zod';
import { failureStatus, type Status } from './status';

export type Validated<T> = { ok: true; value: T } | { ok: false; status: Status };

/**
 * Parses untrusted input; on failure answers a 422 `Invalid` Status whose causes name each
 * field by its JSON path (`spec.source.git.uri`), the way `kubectl` reports them.
 */
export function validate<S extends z.ZodType>(schema: S, input: unknown, kind: string, name?: string): Validated<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  const causes = parsed.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(body)',
    reason: issue.code,
    message: issue.message,
  }));
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join('; ');
  return {
    ok: false,
    status: failureStatus('Invalid', `${kind}${name ? ` "${name}"` : ''} is invalid: ${summary}`, { kind, name, causes }),
  };
}
