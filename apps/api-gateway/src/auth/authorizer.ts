import { Injectable } from '@nestjs/common';
import { strongestRole, type Role, type RoleBinding } from '@paas/contracts/auth';
import { ApiError } from '@paas/platform/api-error';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { NamespaceRepository } from '../namespaces/namespace.repository';
import { RoleBindingRepository } from '../rolebindings/rolebinding.repository';
import { forbiddenMessage, isAllowed, type AccessRequest } from './policy';
import type { Principal } from './principal';

/** Whether a binding names the principal (a service account subject without a namespace is one of the binding's). */
export function bindsPrincipal(binding: RoleBinding, principal: Principal): boolean {
  return binding.subjects.some((subject) => {
    if (subject.kind === 'User') return principal.kind === 'User' && subject.name === principal.name;
    return (
      principal.kind === 'ServiceAccount' &&
      subject.name === principal.serviceAccount &&
      (subject.namespace ?? binding.metadata.namespace) === principal.namespace
    );
  });
}

/** Role-based authorization from the role bindings of each namespace (policy.ts decides). */
@Injectable()
export class Authorizer {
  constructor(
    private readonly roleBindings: RoleBindingRepository,
    private readonly namespaces: NamespaceRepository,
  ) {}

  /** The strongest role the principal holds in the namespace. */
  async roleIn(principal: Principal, namespace: string): Promise<Role | undefined> {
    if (principal.kind === 'Anonymous') return undefined;
    const bindings = await this.roleBindings.list(namespace);
    return strongestRole(bindings.filter((binding) => bindsPrincipal(binding, principal)).map((binding) => binding.roleRef.name));
  }

  /** Throws 403 naming the caller, verb, resource and namespace unless the call is allowed. */
  async authorize(principal: Principal, request: AccessRequest): Promise<void> {
    if (principal.clusterAdmin || (request.namespace === undefined && isAllowed(principal, request))) return;
    if (request.namespace !== undefined) {
      const role = await this.roleIn(principal, request.namespace);
      if (isAllowed(principal, request, { role, exists: true })) return;
      // Only a create can be allowed by the namespace not existing yet: look it up for that alone.
      if (request.verb === 'create' && isAllowed(principal, request, { role, exists: !!(await this.namespaces.find(CLUSTER_SCOPE, request.namespace)) })) return;
    }
    throw ApiError.of('Forbidden', forbiddenMessage(principal, request), { kind: request.resource });
  }

  /** Whether each namespace is one the principal may see (bound to any role there). */
  async namespaceFilter(principal: Principal): Promise<(namespace: string) => boolean> {
    if (principal.clusterAdmin) return () => true;
    const visible = await this.boundNamespaces(principal);
    return (namespace) => visible.has(namespace);
  }

  /** The namespaces whose role bindings bind the principal (to any role: each lets it see and pull there). */
  async boundNamespaces(principal: Principal): Promise<Set<string>> {
    if (principal.kind === 'Anonymous') return new Set();
    return new Set((await this.roleBindings.list()).filter((binding) => bindsPrincipal(binding, principal)).map((binding) => binding.metadata.namespace));
  }
}
