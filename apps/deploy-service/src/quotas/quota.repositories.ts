import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { LimitRange, ResourceQuota } from '@paas/contracts/quotas';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const RESOURCEQUOTAS_COLLECTION = 'resourcequotas';
export const LIMITRANGES_COLLECTION = 'limitranges';

/** Stored without `status`: what a quota's namespace uses is counted when it is read. */
@Injectable()
export class ResourceQuotaRepository extends ResourceRepository<ResourceQuota> {
  constructor(@InjectModel(RESOURCEQUOTAS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'ResourceQuota');
  }
}

@Injectable()
export class LimitRangeRepository extends ResourceRepository<LimitRange> {
  constructor(@InjectModel(LIMITRANGES_COLLECTION) model: Model<StoredResource>) {
    super(model, 'LimitRange');
  }
}
