/**
 * The OCI Distribution error codes with their HTTP status, in one table (distribution's
 * `errcode` registry). Handlers throw `RegistryError`s; `errorBody` renders the spec's
 * envelope `{"errors":[{code, message, detail}]}` in one place.
 */
export const REGISTRY_ERRORS = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOO_MANY_REQUESTS: { status: 429, message: 'too many requests' },
  /** Not in the spec's table, as in distribution: a dependency (the token issuer's keys) cannot be reached. */
  UNAVAILABLE: { status: 503, message: 'service unavailable' },
  /** Not in the spec's table, as in distribution: a range that does not continue the upload. */
  RANGE_INVALID: { status: 416, message: 'requested range not satisfiable' },
  /** Not in the spec's table, as in distribution: `n` of a paginated list is not a number. */
  PAGINATION_NUMBER_INVALID: { status: 400, message: 'invalid number of results requested' },
  /** Not in the spec's table: a manifest pushed with a Content-Type that is no manifest media type. */
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'unsupported media type' },
  /** Not in the spec's table: the spec asks for a 413 when a manifest exceeds the registry's limit. */
  MANIFEST_TOO_LARGE: { status: 413, message: 'manifest exceeds the size limit' },
  /** Not in the spec's table, as in distribution: anything unexpected (details are logged, not sent). */
  UNKNOWN: { status: 500, message: 'unknown error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS;

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message?: string,
    readonly detail?: unknown,
    /** Headers the answer must carry (a `WWW-Authenticate` challenge). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? REGISTRY_ERRORS[code].message);
    this.name = 'RegistryError';
  }

  get status(): number {
    return REGISTRY_ERRORS[this.code].status;
  }
}

export interface RegistryErrorBody {
  errors: { code: RegistryErrorCode; message: string; detail?: unknown }[];
}

/** The driver's errors for a database it cannot reach now (restarting, say), by name. */
const DATABASE_UNREACHABLE = new Set(['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError', 'MongoNotConnectedError', 'MongoPoolClearedError', 'MongooseServerSelectionError']);

/**
 * The error envelope and HTTP status for anything a handler threw. A database that cannot be
 * reached is a 503 with `Retry-After` (the client may try again soon), anything else unknown a
 * 500; neither shows its internals.
 */
export function renderError(error: unknown): { status: number; body: RegistryErrorBody; headers: Record<string, string> } {
  const unreachable = error instanceof Error && DATABASE_UNREACHABLE.has(error.name);
  const known = error instanceof RegistryError ? error : unreachable ? new RegistryError('UNAVAILABLE', undefined, undefined, { 'retry-after': '1' }) : new RegistryError('UNKNOWN');
  const entry = { code: known.code, message: known.message, ...(known.detail === undefined ? {} : { detail: known.detail }) };
  return { status: known.status, body: { errors: [entry] }, headers: known.headers };
}
