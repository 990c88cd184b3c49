import { Injectable } from '@nestjs/common';
import type { Route } from '@paas/contracts/routes';
import type { UpdateRequest } from '@paas/contracts/rpc';
import { ApiError } from '@paas/platform/api-error';
import { AdmitHost } from './admit-host.usecase';
import { RouteChanges } from './route-changes';
import { assertKey, parseRouteInput } from './route-input';
import { RouteRepository } from './route.repository';

/**
 * Replaces a Route's spec, labels and annotations (a stale `metadata.resourceVersion` gets
 * 409). Without `spec.host` the route keeps its host. Admission is re-decided for the new
 * host and, when it moved, for the old one (a waiting route may now be admitted).
 */
@Injectable()
export class UpdateRoute {
  constructor(
    private readonly routes: RouteRepository,
    private readonly admitHost: AdmitHost,
    private readonly changes: RouteChanges,
  ) {}

  async execute(request: UpdateRequest): Promise<Route> {
    const { namespace, name } = assertKey(request);
    const input = parseRouteInput(namespace, request.body);
    if (input.metadata.name !== name) {
      throw ApiError.of('BadRequest', `the name of the object (${input.metadata.name}) does not match the name of the request (${name})`);
    }
    const before = await this.routes.get(namespace, name);
    const host = input.spec.host ?? before.spec.host;
    const updated = await this.routes.update(
      namespace,
      name,
      (current) => ({
        ...current,
        metadata: { ...current.metadata, labels: input.metadata.labels, annotations: input.metadata.annotations },
        spec: { ...input.spec, host },
      }),
      { resourceVersion: input.metadata.resourceVersion },
    );
    const settled = (await this.admitHost.execute(host)).find((r) => r.metadata.uid === updated.metadata.uid) ?? updated;
    if (before.spec.host !== host) await this.admitHost.execute(before.spec.host);
    await this.changes.changed(settled);
    return settled;
  }
}
