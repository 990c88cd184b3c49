import { Injectable } from '@nestjs/common';
import { parentDomain } from '@paas/contracts/routes';
import type { DeleteRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { AdmitDomain } from './admit-domain.usecase';
import { RouteChanges } from './route-changes';
import { assertKey } from './route-input';
import { RouteRepository } from './route.repository';

/** Deletes a Route; a route of another namespace waiting for its host (or domain) is admitted. */
@Injectable()
export class DeleteRoute {
  constructor(
    private readonly routes: RouteRepository,
    private readonly admitDomain: AdmitDomain,
    private readonly changes: RouteChanges,
  ) {}

  async execute(request: DeleteRequest): Promise<Status> {
    const { namespace, name } = assertKey(request);
    const deleted = await this.routes.delete(namespace, name);
    await this.changes.deleted(deleted);
    await this.admitDomain.execute(parentDomain(deleted.spec.host));
    return successStatus(`route "${name}" deleted`, { kind: 'Route', name });
  }
}
