import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Route } from '@paas/contracts/routes';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';
import type { Model } from 'mongoose';

export const ROUTES_COLLECTION = 'routes';

@Injectable()
export class RouteRepository extends ResourceRepository<Route> {
  constructor(@InjectModel(ROUTES_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Route');
  }

  /** Every route claiming `host`, in any namespace. */
  async listByHost(host: string): Promise<Route[]> {
    // Routes are few; a host index (a stored field) comes when they are not.
    return (await this.list()).filter((route) => route.spec.host === host);
  }
}
