/**
 * Errors cross every boundary (HTTP, NATS reply) as a Kubernetes `Status`: one table of
 * reasons with their HTTP codes, so a 404 from the deploy-service reaches the user as a 404.
 */
export const STATUS_REASONS = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;

export type StatusReason = keyof typeof STATUS_REASONS;

export interface StatusCause {
  field?: string;
  reason?: string;
  message: string;
}

export interface Status {
  apiVersion: 'v1';
  kind: 'Status';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message: string;
  reason?: StatusReason;
  /** `retryAfterSeconds`: when to try again (a 429; the answer also carries `Retry-After`). */
  details?: { name?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export function failureStatus(
  reason: StatusReason,
  message: string,
  details?: Status['details'],
): Status {
  return {
    apiVersion: 'v1',
    kind: 'Status',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code: STATUS_REASONS[reason],
  };
}

export function successStatus(message: string, details?: Status['details']): Status {
  return { apiVersion: 'v1', kind: 'Status', metadata: {}, status: 'Success', message, ...(details ? { details } : {}), code: 200 };
}

export function isStatus(value: unknown): value is Status {
  return typeof value === 'object' && value !== null && (value as Status).kind === 'Status';
}
