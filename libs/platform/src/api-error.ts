import { failureStatus, isStatus, type Status, type StatusReason } from '@paas/contracts/status';

/** An error that already knows its Kubernetes Status (and so its HTTP code). */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }

  static of(reason: StatusReason, message: string, details?: Status['details']): ApiError {
    return new ApiError(failureStatus(reason, message, details));
  }

  static notFound(kind: string, name: string): ApiError {
    return ApiError.of('NotFound', `${kind.toLowerCase()} "${name}" not found`, { kind, name });
  }

  static alreadyExists(kind: string, name: string): ApiError {
    return ApiError.of('AlreadyExists', `${kind.toLowerCase()} "${name}" already exists`, { kind, name });
  }

  static conflict(kind: string, name: string, message: string): ApiError {
    return ApiError.of('Conflict', `Operation cannot be fulfilled on ${kind.toLowerCase()} "${name}": ${message}`, { kind, name });
  }

  static invalid(kind: string, name: string | undefined, field: string, message: string): ApiError {
    return ApiError.of('Invalid', `${kind}${name ? ` "${name}"` : ''} is invalid: ${field}: ${message}`, {
      kind,
      name,
      causes: [{ field, message }],
    });
  }
}

/** Anything thrown, as the Status a client should see; unknown errors become a 500 without internals. */
export function statusOf(error: unknown): Status {
  if (error instanceof ApiError) return error.status;
  if (isStatus(error)) return error;
  return failureStatus('InternalError', 'an internal error occurred; see the service log');
}
