import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ConfigMap } from '@paas/contracts/config';
import type { Resource } from '@paas/contracts/meta';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const CONFIGMAPS_COLLECTION = 'configmaps';

export type ConfigMapContents = Pick<ConfigMap, 'data' | 'binaryData' | 'immutable'>;

/** How a ConfigMap sits in storage: its contents as `spec`. */
export type ConfigMapRecord = Resource<'ConfigMap', ConfigMapContents, Record<string, never>>;

/** The API shape: the contents at the top, as Kubernetes has them. */
export function configMapView(record: ConfigMapRecord): ConfigMap {
  const { data, binaryData, immutable } = record.spec;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: record.metadata,
    data,
    ...(binaryData && Object.keys(binaryData).length ? { binaryData } : {}),
    ...(immutable !== undefined ? { immutable } : {}),
  };
}

@Injectable()
export class ConfigMapRepository extends ResourceRepository<ConfigMapRecord> {
  constructor(@InjectModel(CONFIGMAPS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'ConfigMap');
  }
}
