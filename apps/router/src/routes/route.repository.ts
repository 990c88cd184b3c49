import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { parentDomain, type Route } from '@paas/contracts/routes';
import { ResourceRepository, type ResourceStore, type StoredResource } from '@paas/platform/resource-repository';
import type { Model } from 'mongoose';

export const ROUTES_COLLECTION = 'routes';

@Injectable()
export class RouteRepository extends ResourceRepository<Route> {
  constructor(@InjectModel(ROUTES_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Route');
  }
}

/** Every route whose host lies in `domain` (its parent domain), in any namespace: what admission in that domain depends on. */
export async function routesOfDomain(routes: Pick<ResourceStore<Route>, 'list'>, domain: string): Promise<Route[]> {
  // Routes are few; a domain index (a stored field) comes when they are not.
  return (await routes.list()).filter((route) => parentDomain(route.spec.host) === domain);
}
