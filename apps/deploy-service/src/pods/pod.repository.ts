import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Pod } from '@paas/contracts/deployments';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const PODS_COLLECTION = 'pods';

@Injectable()
export class PodRepository extends ResourceRepository<Pod> {
  constructor(@InjectModel(PODS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Pod');
  }
}
