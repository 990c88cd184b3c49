import { clusterAdminOnly, roleIncludes, roleNeeded, type ApiVerb, type Role } from '@paas/contracts/auth';
import type { Principal } from './principal';

export interface AccessRequest {
  verb: ApiVerb;
  resource: string;
  /** Absent for a cluster-scoped resource. */
  namespace?: string;
}

/** What the decision needs to know about the namespace, looked up by the caller. */
export interface NamespaceFacts {
  /** The caller's strongest role there. */
  role?: Role;
  exists: boolean;
}

/** Cluster-scoped calls every user may make: the handler narrows them to what is theirs. */
const SELF_SERVICE: Record<string, Principal['kind'][]> = {
  'list namespaces': ['User', 'ServiceAccount'],
  'create namespaces': ['User'],
  'create tokens': ['User', 'ServiceAccount'],
  'list tokens': ['User', 'ServiceAccount'],
  'delete tokens': ['User', 'ServiceAccount'],
  'get users/~': ['User', 'ServiceAccount'],
  'list users/tokens': ['User'],
  'update users/password': ['User'],
  'list builders': ['User', 'ServiceAccount'],
  'get builders': ['User', 'ServiceAccount'],
};

/**
 * Whether `principal` may make `request`. Cluster-admins may do everything, and they alone
 * change quotas and limit ranges; otherwise in a namespace the role bound there decides (roleNeeded); a user may create in a namespace that does not
 * exist yet (it becomes theirs, as projects are self-provisioned in OpenShift).
 */
export function isAllowed(principal: Principal, request: AccessRequest, facts: NamespaceFacts = { exists: false }): boolean {
  if (principal.clusterAdmin) return true;
  if (request.namespace === undefined) return SELF_SERVICE[`${request.verb} ${request.resource}`]?.includes(principal.kind) ?? false;
  if (clusterAdminOnly(request.verb, request.resource)) return false;
  if (roleIncludes(facts.role, roleNeeded(request.verb, request.resource))) return true;
  return request.verb === 'create' && !facts.exists && principal.kind === 'User';
}

/** Kubernetes' wording: `routes is forbidden: User "ann" cannot create resource "routes" in the namespace "demo"`. */
export function forbiddenMessage(principal: Principal, request: AccessRequest): string {
  const where = request.namespace === undefined ? 'at the cluster scope' : `in the namespace "${request.namespace}"`;
  return `${request.resource} is forbidden: User "${principal.name}" cannot ${request.verb} resource "${request.resource}" ${where}`;
}
