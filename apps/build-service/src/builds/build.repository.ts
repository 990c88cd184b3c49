import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Build } from '@paas/contracts/builds';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const BUILDS_COLLECTION = 'builds';

@Injectable()
export class BuildRepository extends ResourceRepository<Build> {
  constructor(@InjectModel(BUILDS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Build');
  }
}

/** What the pipeline needs of the store, so unit tests can hand it an in-memory one. */
export type BuildStore = Pick<BuildRepository, 'find' | 'get' | 'update' | 'updateStatus' | 'list'>;
