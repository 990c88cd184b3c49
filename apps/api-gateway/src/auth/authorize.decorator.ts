import { SetMetadata } from '@nestjs/common';
import type { ApiVerb } from '@paas/contracts/auth';

export const AUTHORIZE = Symbol('AUTHORIZE');

export interface AuthorizeRule {
  verb: ApiVerb;
  /** Fixed, or (undefined) the route's `:plural`. */
  resource?: string;
  /** The route parameter that names the namespace (`namespace`); `null` for a cluster-scoped call. */
  namespaceParam: string | null;
}

/**
 * What a route does, for the AuthGuard: `verb` on `resource` in the namespace of the route's
 * `:namespace`. Every `/api/v1` route carries one; a route without it is for cluster-admins only.
 */
export const Authorize = (verb: ApiVerb, resource?: string, options: { namespaceParam?: string } = {}) =>
  SetMetadata(AUTHORIZE, { verb, resource, namespaceParam: options.namespaceParam ?? 'namespace' } satisfies AuthorizeRule);

/** A call on a cluster-scoped resource (users, tokens, the namespace list). */
export const AuthorizeCluster = (verb: ApiVerb, resource: string) => SetMetadata(AUTHORIZE, { verb, resource, namespaceParam: null } satisfies AuthorizeRule);
