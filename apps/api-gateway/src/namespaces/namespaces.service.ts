import { Injectable } from '@nestjs/common';
import { namespaceInput, type Namespace } from '@paas/contracts/namespaces';
import { dns1123Label } from '@paas/contracts/meta';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { NamespaceRepository } from './namespace.repository';

/** Namespaces are cluster-scoped: stored under a name no namespace can have. */
const CLUSTER_SCOPE = '_cluster';

@Injectable()
export class NamespacesService {
  constructor(private readonly namespaces: NamespaceRepository) {}

  async create(body: unknown): Promise<Namespace> {
    const input = validate(namespaceInput, body, 'Namespace');
    if (!input.ok) throw new ApiError(input.status);
    const { name, labels, annotations } = input.value.metadata;
    return this.namespaces.create({ metadata: { name, namespace: CLUSTER_SCOPE, labels, annotations }, spec: {}, status: { phase: 'Active' } });
  }

  /** Creating an app in a namespace that does not exist yet creates it, as `oc new-app` in a fresh project would need. */
  async ensure(name: string): Promise<Namespace> {
    assertNamespaceName(name);
    const existing = await this.assertWritable(name);
    if (existing) return existing;
    return this.create({ metadata: { name } }).catch(async (error) => {
      const raced = await this.namespaces.find(CLUSTER_SCOPE, name);
      if (raced) return raced;
      throw error;
    });
  }

  get(name: string): Promise<Namespace> {
    return this.namespaces.get(CLUSTER_SCOPE, name);
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

export function assertNamespaceName(name: string): void {
  const result = validate(dns1123Label, name, 'Namespace', name);
  if (!result.ok) throw ApiError.invalid('Namespace', name, 'metadata.name', result.status.details?.causes?.[0]?.message ?? 'invalid');
}
