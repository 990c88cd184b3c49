import { Inject, Injectable } from '@nestjs/common';
import { parentDomain } from '@paas/contracts/routes';
import type { DeleteRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { AdmitDomain } from './admit-domain.usecase';
import { assertKey } from './route-input';
import { RouteWrites } from './route-writes';

/** Deletes a Route; a route of another namespace waiting for its host (or domain) is admitted. */
@Injectable()
export class DeleteRoute {
  constructor(
    @Inject(RouteWrites) private readonly writes: RouteWrites,
    @Inject(AdmitDomain) private readonly admitDomain: AdmitDomain,
  ) {}

  async execute(request: DeleteRequest): Promise<Status> {
    const { namespace, name } = assertKey(request);
    const deleted = await this.writes.delete(namespace, name);
    await this.admitDomain.execute(parentDomain(deleted.spec.host));
    return successStatus(`route "${name}" deleted`, { kind: 'Route', name });
  }
}
