import { Inject, Injectable } from '@nestjs/common';
import { parentDomain, type Route } from '@paas/contracts/routes';
import type { UpdateRequest } from '@paas/contracts/rpc';
import { ApiError } from '@paas/platform/api-error';
import type { ResourceStore } from '@paas/platform/resource-repository';
import type { RouterConfig } from '../config';
import { ROUTER_CONFIG } from '../runtime.module';
import { AdmitDomain } from './admit-domain.usecase';
import { assertKey, parseRouteInput } from './route-input';
import { RouteWrites } from './route-writes';
import { RouteRepository } from './route.repository';

/**
 * Replaces a Route's spec, labels and annotations (a stale `metadata.resourceVersion` gets
 * 409). Without `spec.host` the route keeps its host. Admission is re-decided for the new
 * host's domain and, when it moved, for the old one (a waiting route may now be admitted).
 */
@Injectable()
export class UpdateRoute {
  constructor(
    @Inject(RouteRepository) private readonly routes: ResourceStore<Route>,
    @Inject(RouteWrites) private readonly writes: RouteWrites,
    @Inject(AdmitDomain) private readonly admitDomain: AdmitDomain,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async execute(request: UpdateRequest): Promise<Route> {
    const { namespace, name } = assertKey(request);
    const input = parseRouteInput(namespace, request.body, this.config.domain);
    if (input.metadata.name !== name) {
      throw ApiError.of('BadRequest', `the name of the object (${input.metadata.name}) does not match the name of the request (${name})`);
    }
    const before = await this.routes.get(namespace, name);
    const host = input.spec.host ?? before.spec.host;
    const updated = await this.writes.update(
      namespace,
      name,
      (current) => ({
        ...current,
        metadata: { ...current.metadata, labels: input.metadata.labels, annotations: input.metadata.annotations },
        spec: { ...input.spec, host },
      }),
      { resourceVersion: input.metadata.resourceVersion },
    );
    const domain = parentDomain(host);
    const settled = (await this.admitDomain.execute(domain)).find((r) => r.metadata.uid === updated.metadata.uid) ?? updated;
    if (parentDomain(before.spec.host) !== domain) await this.admitDomain.execute(parentDomain(before.spec.host));
    return settled;
  }
}
