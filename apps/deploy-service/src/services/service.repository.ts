import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Service } from '@paas/contracts/deployments';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const SERVICES_COLLECTION = 'services';

@Injectable()
export class ServiceRepository extends ResourceRepository<Service> {
  constructor(@InjectModel(SERVICES_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Service');
  }
}
