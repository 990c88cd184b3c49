import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { DeploymentConfig } from '@paas/contracts/deployments';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const DEPLOYMENTCONFIGS_COLLECTION = 'deploymentconfigs';

@Injectable()
export class DeploymentConfigRepository extends ResourceRepository<DeploymentConfig> {
  constructor(@InjectModel(DEPLOYMENTCONFIGS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'DeploymentConfig');
  }
}
