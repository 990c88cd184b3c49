import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { EndpointAddress, Endpoints } from '@paas/contracts/deployments';
import type { Resource } from '@paas/contracts/meta';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const ENDPOINTS_COLLECTION = 'endpoints';

export interface EndpointsSubsets {
  addresses: EndpointAddress[];
  notReadyAddresses: EndpointAddress[];
}

export interface EndpointsState {
  /**
   * Monotonic across the object's deletion and re-creation (never below the wall clock in
   * ms), so a router holding an older generation of the same name always takes a newer one.
   */
  generation: number;
}

/** How Endpoints sit in storage: the subsets as `spec`, the generation bookkeeping as `status`. */
export type EndpointsRecord = Resource<'Endpoints', EndpointsSubsets, EndpointsState>;

/** The API shape (`addresses` at the top, as Kubernetes has them), generation = the published counter. */
export function endpointsView(record: EndpointsRecord): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { ...record.metadata, generation: record.status.generation },
    addresses: record.spec.addresses,
    notReadyAddresses: record.spec.notReadyAddresses,
  };
}

@Injectable()
export class EndpointsRepository extends ResourceRepository<EndpointsRecord> {
  constructor(@InjectModel(ENDPOINTS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Endpoints');
  }
}
