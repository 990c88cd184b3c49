import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { RoleBinding, RoleBindingSpec } from '@paas/contracts/auth';
import type { Labels, Resource } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const ROLEBINDINGS_COLLECTION = 'rolebindings';

/** Stored with `roleRef` and `subjects` as its spec, so the repository's versioning applies. */
type StoredRoleBinding = Resource<'RoleBinding', RoleBindingSpec, Record<string, never>>;

function toRoleBinding({ apiVersion, kind, metadata, spec }: StoredRoleBinding): RoleBinding {
  return { apiVersion, kind, metadata, roleRef: spec.roleRef, subjects: spec.subjects };
}

export interface RoleBindingMeta {
  name: string;
  namespace: string;
  labels?: Labels;
  annotations?: Record<string, string>;
}

/** Role bindings in Kubernetes' shape (`roleRef`, `subjects` beside `metadata`). */
@Injectable()
export class RoleBindingRepository {
  private readonly resources: ResourceRepository<StoredRoleBinding>;

  constructor(@InjectModel(ROLEBINDINGS_COLLECTION) model: Model<StoredResource>) {
    this.resources = new ResourceRepository<StoredRoleBinding>(model, 'RoleBinding');
  }

  async create(metadata: RoleBindingMeta, spec: RoleBindingSpec): Promise<RoleBinding> {
    return toRoleBinding(await this.resources.create({ metadata, spec, status: {} }));
  }

  async get(namespace: string, name: string): Promise<RoleBinding> {
    return toRoleBinding(await this.resources.get(namespace, name));
  }

  /** `namespace` undefined: every namespace. */
  async list(namespace?: string): Promise<RoleBinding[]> {
    return (await this.resources.list({ namespace })).map(toRoleBinding);
  }

  async update(metadata: RoleBindingMeta & { resourceVersion?: string }, spec: RoleBindingSpec): Promise<RoleBinding> {
    const { namespace, name, labels, annotations, resourceVersion } = metadata;
    const updated = await this.resources.update(namespace, name, (current) => ({ ...current, metadata: { ...current.metadata, labels, annotations }, spec }), { resourceVersion });
    return toRoleBinding(updated);
  }

  /** Creates the binding, or makes an existing one of that name say `spec`. */
  async put(metadata: RoleBindingMeta, spec: RoleBindingSpec): Promise<RoleBinding> {
    try {
      return await this.create(metadata, spec);
    } catch (error) {
      if (!(error instanceof ApiError && error.status.reason === 'AlreadyExists')) throw error;
      return this.update(metadata, spec);
    }
  }

  async delete(namespace: string, name: string): Promise<RoleBinding> {
    return toRoleBinding(await this.resources.delete(namespace, name));
  }
}
