import { Inject, Injectable } from '@nestjs/common';
import { defaultRouteHost, parentDomain, type Route } from '@paas/contracts/routes';
import type { CreateRequest } from '@paas/contracts/rpc';
import { ApiError } from '@paas/platform/api-error';
import type { ResourceStore } from '@paas/platform/resource-repository';
import { dryRunPreview } from '@paas/platform/rpc-input';
import type { RouterConfig } from '../config';
import { ROUTER_CONFIG } from '../runtime.module';
import { AdmitDomain } from './admit-domain.usecase';
import { admissionStatus, decideAdmission } from './route-admission';
import { parseRouteInput } from './route-input';
import { RouteWrites } from './route-writes';
import { RouteRepository, routesOfDomain } from './route.repository';

/**
 * Stores a Route with its host (`<name>-<namespace>.<domain>` when none is given) and its
 * admission: a host (or, for a wildcard, a domain) already claimed by an older route of
 * another namespace leaves it stored but not admitted (`route-admission.ts`). With
 * `dryRun`, answers what would be stored and stores nothing.
 */
@Injectable()
export class CreateRoute {
  constructor(
    @Inject(RouteRepository) private readonly routes: ResourceStore<Route>,
    @Inject(RouteWrites) private readonly writes: RouteWrites,
    @Inject(AdmitDomain) private readonly admitDomain: AdmitDomain,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async execute(request: CreateRequest): Promise<Route> {
    const input = parseRouteInput(request.namespace, request.body, this.config.domain);
    const { name, namespace, labels, annotations } = input.metadata;
    const host = input.spec.host ?? defaultRouteHost(name, namespace, this.config.domain);
    if (await this.routes.find(namespace, name)) throw ApiError.alreadyExists('Route', name);

    const draft = dryRunPreview<Route>('Route', {
      metadata: { name, namespace, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) },
      spec: { ...input.spec, host },
      status: { ingress: [] },
    });
    const decision = decideAdmission([...(await routesOfDomain(this.routes, parentDomain(host))), draft]).get(draft);
    draft.status = admissionStatus(draft, decision ?? { admitted: true }, draft.metadata.creationTimestamp);
    if (request.dryRun) return draft;

    const created = await this.writes.create({ metadata: { name, namespace, labels, annotations }, spec: draft.spec, status: draft.status });
    return (await this.admitDomain.execute(parentDomain(host))).find((r) => r.metadata.uid === created.metadata.uid) ?? created;
  }
}
