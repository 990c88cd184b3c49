import { Injectable } from '@nestjs/common';
import { roleBindingInput, type RoleBinding } from '@paas/contracts/auth';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { parseBody } from '@paas/platform/rpc-input';
import { NamespacesService, assertNamespaceName } from '../namespaces/namespaces.service';
import { RoleBindingRepository } from './rolebinding.repository';

/** Role bindings: who holds `view`, `edit` or `admin` in a namespace. */
@Injectable()
export class RoleBindingsService {
  constructor(
    private readonly roleBindings: RoleBindingRepository,
    private readonly namespaces: NamespacesService,
  ) {}

  async create(namespace: string, body: unknown): Promise<RoleBinding> {
    if (!(await this.namespaces.assertWritable(namespace))) throw ApiError.notFound('Namespace', namespace);
    const { metadata, roleRef, subjects } = parseBody(roleBindingInput, body, 'RoleBinding', namespace);
    return this.roleBindings.create({ name: metadata.name, namespace, labels: metadata.labels, annotations: metadata.annotations }, { roleRef, subjects });
  }

  async update(namespace: string, name: string, body: unknown): Promise<RoleBinding> {
    assertNamespaceName(namespace);
    const { metadata, roleRef, subjects } = parseBody(roleBindingInput, body, 'RoleBinding', namespace);
    if (metadata.name !== name) throw ApiError.of('BadRequest', `the name of the object (${metadata.name}) does not match the name on the URL (${name})`);
    const { labels, annotations, resourceVersion } = metadata;
    return this.roleBindings.update({ name, namespace, labels, annotations, resourceVersion }, { roleRef, subjects });
  }

  list(namespace: string): Promise<RoleBinding[]> {
    assertNamespaceName(namespace);
    return this.roleBindings.list(namespace);
  }

  get(namespace: string, name: string): Promise<RoleBinding> {
    return this.roleBindings.get(namespace, name);
  }

  async delete(namespace: string, name: string): Promise<Status> {
    await this.roleBindings.delete(namespace, name);
    return successStatus(`rolebinding "${name}" deleted`, { kind: 'RoleBinding', name });
  }
}
