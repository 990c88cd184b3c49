import { Injectable } from '@nestjs/common';
import { resourceMethod } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { RpcClient } from '@paas/platform/rpc';
import { RemoveEvents } from '../events/remove-events.usecase';
import { RoleBindingRepository } from '../rolebindings/rolebinding.repository';
import { ServiceAccountRepository } from '../serviceaccounts/serviceaccount.repository';
import { ApiTokenRepository } from '../tokens/api-token.repository';
import { NamespacesService } from './namespaces.service';

/**
 * What a namespace holds, in the order it is deleted: what users reach first goes first.
 * Builds, replication controllers, pods and endpoints go with their owners.
 */
export const NAMESPACE_CONTENTS = ['routes', 'services', 'deploymentconfigs', 'buildconfigs', 'imagestreams', 'configmaps', 'secrets', 'resourcequotas', 'limitranges'] as const;

/**
 * `DELETE /api/v1/namespaces/{name}`: the namespace turns Terminating (no new app can be
 * created in it, no new Event is recorded in it), every owner deletes its resources there,
 * then the namespace goes. An owner that is down leaves it Terminating with a 503; deleting
 * again finishes the job. The gateway's own contents go last: its Events, service accounts
 * with their tokens, then the role bindings (so the admin who deletes can still finish the
 * job until then).
 */
@Injectable()
export class DeleteNamespaceUseCase {
  constructor(
    private readonly namespaces: NamespacesService,
    private readonly rpc: RpcClient,
    private readonly serviceAccounts: ServiceAccountRepository,
    private readonly tokens: ApiTokenRepository,
    private readonly roleBindings: RoleBindingRepository,
    private readonly events: RemoveEvents,
  ) {}

  async execute(name: string): Promise<Status> {
    await this.namespaces.markTerminating(name);
    for (const plural of NAMESPACE_CONTENTS) {
      const { items } = await this.rpc.request(resourceMethod(plural, 'list'), { namespace: name });
      for (const item of items as { metadata: { name: string } }[]) {
        await this.rpc
          .request(resourceMethod(plural, 'delete'), { namespace: name, name: item.metadata.name })
          .catch(ignoreNotFound);
      }
    }
    await this.events.inNamespace(name);
    for (const account of await this.serviceAccounts.list({ namespace: name })) await this.serviceAccounts.delete(name, account.metadata.name).catch(ignoreNotFound);
    await this.tokens.deleteOfServiceAccounts(name);
    for (const binding of await this.roleBindings.list(name)) await this.roleBindings.delete(name, binding.metadata.name).catch(ignoreNotFound);
    await this.namespaces.remove(name);
    return successStatus(`namespace "${name}" deleted`, { kind: 'Namespace', name });
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof ApiError && error.status.code === 404)) throw error;
}
