import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ServiceAccount } from '@paas/contracts/auth';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const SERVICEACCOUNTS_COLLECTION = 'serviceaccounts';

@Injectable()
export class ServiceAccountRepository extends ResourceRepository<ServiceAccount> {
  constructor(@InjectModel(SERVICEACCOUNTS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'ServiceAccount');
  }
}
