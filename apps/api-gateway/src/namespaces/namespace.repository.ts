import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Namespace } from '@paas/contracts/namespaces';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const NAMESPACES_COLLECTION = 'namespaces';

@Injectable()
export class NamespaceRepository extends ResourceRepository<Namespace> {
  constructor(@InjectModel(NAMESPACES_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Namespace');
  }
}
