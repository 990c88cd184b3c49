import { Injectable } from '@nestjs/common';
import { namespaceInput, parseByteQuantity, REGISTRY_QUOTA_ANNOTATION, type Namespace } from '@paas/contracts/namespaces';
import { dns1123Label } from '@paas/contracts/meta';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import type { Principal } from '../auth/principal';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { RoleBindingRepository } from '../rolebindings/rolebinding.repository';
import { NamespaceRepository } from './namespace.repository';

/** The binding that makes a namespace's creator its admin. */
export const CREATOR_BINDING = 'admin';

@Injectable()
export class NamespacesService {
  constructor(
    private readonly namespaces: NamespaceRepository,
    private readonly roleBindings: RoleBindingRepository,
  ) {}

  /** The user who creates a namespace becomes its admin. */
  async create(body: unknown, creator?: Principal): Promise<Namespace> {
    const input = validate(namespaceInput, body, 'Namespace');
    if (!input.ok) throw new ApiError(input.status);
    const { name, labels, annotations } = input.value.metadata;
    assertQuotaChange(creator, name, undefined, annotations);
    const created = await this.namespaces.create({ metadata: { name, namespace: CLUSTER_SCOPE, labels, annotations }, spec: {}, status: { phase: 'Active' } });
    if (creator?.kind === 'User') {
      // Put, not create: a binding of that name can only be left over from a namespace of the same name.
      await this.roleBindings.put({ name: CREATOR_BINDING, namespace: name }, { roleRef: { name: 'admin' }, subjects: [{ kind: 'User', name: creator.name }] });
    }
    return created;
  }

  /** Labels and annotations (`paas.dev/registry-anonymous-pull`, say); a stale `resourceVersion` is a 409. */
  async update(name: string, body: unknown, principal: Principal): Promise<Namespace> {
    assertNamespaceName(name);
    const input = validate(namespaceInput, body, 'Namespace', name);
    if (!input.ok) throw new ApiError(input.status);
    const { name: bodyName, labels, annotations, resourceVersion } = input.value.metadata;
    if (bodyName !== name) throw ApiError.of('BadRequest', `the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    return this.namespaces.update(
      CLUSTER_SCOPE,
      name,
      (current) => {
        assertQuotaChange(principal, name, current.metadata.annotations, annotations);
        return { ...current, metadata: { ...current.metadata, labels, annotations } };
      },
      { resourceVersion },
    );
  }

  /**
   * Creating an app in a namespace that does not exist yet creates it (with `creator` as its
   * admin), as `oc new-app` in a fresh project would need.
   */
  async ensure(name: string, creator?: Principal): Promise<Namespace> {
    assertNamespaceName(name);
    const existing = await this.assertWritable(name);
    if (existing) return existing;
    return this.create({ metadata: { name } }, creator).catch(async (error) => {
      // Created meanwhile by another call (whose creator is its admin): use it.
      const raced = error instanceof ApiError && error.status.reason === 'AlreadyExists' ? await this.namespaces.find(CLUSTER_SCOPE, name) : undefined;
      if (raced) return raced;
      throw error;
    });
  }

  get(name: string): Promise<Namespace> {
    return this.namespaces.get(CLUSTER_SCOPE, name);
  }

  find(name: string): Promise<Namespace | undefined> {
    return this.namespaces.find(CLUSTER_SCOPE, name);
  }

  /** The namespace, if it exists; a 409 when it is being deleted, since nothing may be created in it. */
  async assertWritable(name: string): Promise<Namespace | undefined> {
    assertNamespaceName(name);
    const existing = await this.namespaces.find(CLUSTER_SCOPE, name);
    if (existing?.status.phase === 'Terminating') {
      throw ApiError.of('Conflict', `namespace "${name}" is being terminated; nothing can be created in it`, { kind: 'Namespace', name });
    }
    return existing;
  }

  async markTerminating(name: string): Promise<Namespace> {
    assertNamespaceName(name);
    return this.namespaces.updateStatus(CLUSTER_SCOPE, name, () => ({ phase: 'Terminating' }));
  }

  async remove(name: string): Promise<void> {
    await this.namespaces.delete(CLUSTER_SCOPE, name);
  }

  list(): Promise<Namespace[]> {
    return this.namespaces.list({ namespace: CLUSTER_SCOPE });
  }
}

/**
 * The registry quota annotation holds a byte quantity, and only a cluster-admin may set,
 * change or remove it: a namespace's own admins would otherwise raise their own quota.
 */
function assertQuotaChange(principal: Principal | undefined, name: string, before: Record<string, string> | undefined, after: Record<string, string> | undefined): void {
  const [old, next] = [before?.[REGISTRY_QUOTA_ANNOTATION], after?.[REGISTRY_QUOTA_ANNOTATION]];
  if (old === next) return;
  if (next !== undefined && parseByteQuantity(next) === undefined) {
    throw ApiError.invalid('Namespace', name, `metadata.annotations.${REGISTRY_QUOTA_ANNOTATION}`, 'must be a quantity of bytes such as 10Gi, 500Mi or 1073741824');
  }
  if (!principal?.clusterAdmin) {
    throw ApiError.of('Forbidden', `namespaces "${name}" is forbidden: User "${principal?.name ?? 'system:anonymous'}" cannot set the annotation ${REGISTRY_QUOTA_ANNOTATION}: only cluster-admins decide registry quotas`, {
      kind: 'Namespace',
      name,
    });
  }
}

export function assertNamespaceName(name: string): void {
  const result = validate(dns1123Label, name, 'Namespace', name);
  if (!result.ok) throw ApiError.invalid('Namespace', name, 'metadata.name', result.status.details?.causes?.[0]?.message ?? 'invalid');
}
