import { Inject, Injectable } from '@nestjs/common';
import type { Route } from '@paas/contracts/routes';
import { ApiError } from '@paas/platform/api-error';
import type { ResourceStore } from '@paas/platform/resource-repository';
import { admissionChanges, admissionStatus } from './route-admission';
import { RouteWrites } from './route-writes';
import { RouteRepository, routesOfDomain } from './route.repository';

/** Passes over one domain while writes keep changing what admission sees (a concurrent create or delete). */
const MAX_PASSES = 3;

/**
 * Re-decides admission for every route of one domain (the parent domain of a host: what a
 * host's admission depends on, wildcards included) from what is stored, and writes the
 * verdicts that changed. Run after each create, update and delete, and by the periodic
 * resync: it settles races between concurrent writers (a pass that wrote is followed by
 * another, on fresh state), and admits a waiting route once the owner of its host is gone.
 * Answers the domain's routes as they now are.
 */
@Injectable()
export class AdmitDomain {
  constructor(
    @Inject(RouteRepository) private readonly routes: Pick<ResourceStore<Route>, 'list'>,
    @Inject(RouteWrites) private readonly writes: RouteWrites,
  ) {}

  async execute(domain: string): Promise<Route[]> {
    let routes: Route[] = [];
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const settled = await this.settle(await routesOfDomain(this.routes, domain));
      routes = settled.routes;
      if (!settled.wrote) break;
    }
    return routes;
  }

  private async settle(routes: Route[]): Promise<{ routes: Route[]; wrote: boolean }> {
    const now = new Date().toISOString();
    const changes = admissionChanges(routes, now);
    let wrote = false;
    const result: Route[] = [];
    for (const route of routes) {
      const admission = changes.get(route);
      if (!admission) {
        result.push(route);
        continue;
      }
      wrote = true;
      const { namespace, name } = route.metadata;
      try {
        const updated = await this.writes.update(namespace, name, (current) =>
          sameClaim(current, route) ? { ...current, status: admissionStatus(current, admission, now) } : undefined,
        );
        result.push(updated);
      } catch (error) {
        // Deleted meanwhile: nothing left to admit.
        if (!(error instanceof ApiError && error.status.code === 404)) throw error;
      }
    }
    return { routes: result, wrote };
  }
}

/** The stored route still claims what admission was decided for (else the next pass decides again). */
function sameClaim(current: Route, decided: Route): boolean {
  return (
    current.metadata.uid === decided.metadata.uid &&
    current.spec.host === decided.spec.host &&
    (current.spec.wildcardPolicy ?? 'None') === (decided.spec.wildcardPolicy ?? 'None')
  );
}
