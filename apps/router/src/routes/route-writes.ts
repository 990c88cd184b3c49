import { Inject, Injectable } from '@nestjs/common';
import type { Route } from '@paas/contracts/routes';
import type { NewResource, OutboxEvent, ResourceStore } from '@paas/platform/resource-repository';
import { RouterState } from '../table/router-state';
import { RouteRepository } from './route.repository';

/**
 * Every write of a Route, and how the router replicas hear of it: the write owes
 * `route.changed` through its outbox (kept in the version it inserts, published right after,
 * or by the OutboxRelay if this process dies first), on which every replica reloads the
 * route from the database; this replica's table takes the route at once.
 */
@Injectable()
export class RouteWrites {
  constructor(
    @Inject(RouteRepository) private readonly routes: ResourceStore<Route>,
    @Inject(RouterState) private readonly state: Pick<RouterState, 'upsertRoute' | 'removeRoute'>,
  ) {}

  async create(input: NewResource<Route>): Promise<Route> {
    const created = await this.routes.create(input, { outbox: (route) => [routeChanged(route)] });
    this.state.upsertRoute(created);
    return created;
  }

  /** As the repository's update (a stale `resourceVersion` is a 409); a mutation that changes nothing writes and owes nothing. */
  async update(namespace: string, name: string, mutate: (current: Route) => Route | undefined, options: { resourceVersion?: string } = {}): Promise<Route> {
    const updated = await this.routes.update(namespace, name, mutate, { ...options, outbox: (route) => [routeChanged(route)] });
    this.state.upsertRoute(updated);
    return updated;
  }

  /** Answers the route as it was last. */
  async delete(namespace: string, name: string): Promise<Route> {
    const deleted = await this.routes.delete(namespace, name, { outbox: (last) => [routeDeleted(last)] });
    this.state.removeRoute(namespace, name);
    return deleted;
  }
}

/** What a write of `route` owes, one id per version: the relay's repeat of it is dropped by the bus. */
export function routeChanged(route: Route): OutboxEvent<'route.changed'> {
  const { namespace, name, uid, resourceVersion, generation } = route.metadata;
  return { id: `route.changed:${uid}:${resourceVersion}`, type: 'route.changed', data: { namespace, name, generation, deleted: false } };
}

/** What deleting `route` (as it was last) owes: an id of its own, apart from that of the write it undoes. */
export function routeDeleted(route: Route): OutboxEvent<'route.changed'> {
  const { namespace, name, uid, generation } = route.metadata;
  return { id: `route.changed:${uid}:deleted`, type: 'route.changed', data: { namespace, name, generation, deleted: true } };
}
