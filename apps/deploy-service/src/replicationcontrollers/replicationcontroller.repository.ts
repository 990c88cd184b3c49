import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ReplicationController } from '@paas/contracts/deployments';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const REPLICATIONCONTROLLERS_COLLECTION = 'replicationcontrollers';

@Injectable()
export class ReplicationControllerRepository extends ResourceRepository<ReplicationController> {
  constructor(@InjectModel(REPLICATIONCONTROLLERS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'ReplicationController');
  }
}
