import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Node } from '@paas/contracts/nodes';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const NODES_COLLECTION = 'nodes';

@Injectable()
export class NodeRepository extends ResourceRepository<Node> {
  constructor(@InjectModel(NODES_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Node');
  }
}
