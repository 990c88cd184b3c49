import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { BuildConfig } from '@paas/contracts/builds';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const BUILDCONFIGS_COLLECTION = 'buildconfigs';

@Injectable()
export class BuildConfigRepository extends ResourceRepository<BuildConfig> {
  constructor(@InjectModel(BUILDCONFIGS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'BuildConfig');
  }
}
