import { Injectable } from '@nestjs/common';
import type { Route } from '@paas/contracts/routes';
import { ApiError } from '@paas/platform/api-error';
import { isDeepStrictEqual } from 'node:util';
import { admissionStatus, decideAdmission } from './route-admission';
import { RouteChanges } from './route-changes';
import { RouteRepository } from './route.repository';

/**
 * Re-decides admission for every route of one host from what is stored, and writes the
 * verdicts that changed. Run after each create, update and delete: it settles races
 * between concurrent creates, and admits a waiting route once the owner of its host+path
 * is gone. Answers the host's routes as they now are.
 */
@Injectable()
export class AdmitHost {
  constructor(
    private readonly routes: RouteRepository,
    private readonly changes: RouteChanges,
  ) {}

  async execute(host: string): Promise<Route[]> {
    const routes = await this.routes.listByHost(host);
    const decisions = decideAdmission(routes);
    const now = new Date().toISOString();
    const result: Route[] = [];
    for (const route of routes) {
      const decision = decisions.get(route);
      if (!decision || isDeepStrictEqual(admissionStatus(route, decision, now), route.status)) {
        result.push(route);
        continue;
      }
      const { namespace, name } = route.metadata;
      try {
        const updated = await this.routes.update(namespace, name, (current) =>
          current.spec.host === host ? { ...current, status: admissionStatus(current, decision, now) } : undefined,
        );
        await this.changes.changed(updated);
        result.push(updated);
      } catch (error) {
        // Deleted meanwhile: nothing left to admit.
        if (!(error instanceof ApiError && error.status.code === 404)) throw error;
      }
    }
    return result;
  }
}
