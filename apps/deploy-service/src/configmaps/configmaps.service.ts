import { Inject, Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { configMapInput, type ConfigMap } from '@paas/contracts/config';
import type { ResourceList } from '@paas/contracts/meta';
import type { CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { listsFromCache } from '@paas/platform/informer';
import { dryRunPreview, listResponse, parseBody, updatedFrom } from '@paas/platform/rpc-input';
import { DeployInformers } from '../informers';
import type { Store } from '../store';
import { configMapView, ConfigMapRepository, type ConfigMapContents, type ConfigMapRecord } from './configmap.repository';

const KIND = 'ConfigMap';

/** The ConfigMap API; pods read a ConfigMap when their container is created (pods/container-env.ts). */
@Injectable()
export class ConfigMapsService {
  constructor(
    @Inject(ConfigMapRepository) private readonly configMaps: Store<ConfigMapRecord>,
    @Inject(DeployInformers) private readonly informers: Pick<DeployInformers, 'configMaps'>,
  ) {}

  async get({ namespace, name }: GetRequest): Promise<ConfigMap> {
    return configMapView(await this.configMaps.get(namespace, name));
  }

  list(request: ListRequest): Promise<ResourceList<ConfigMap>> {
    return listResponse(KIND, listsFromCache(this.informers.configMaps, this.configMaps), request, configMapView);
  }

  async create({ namespace, body, dryRun }: CreateRequest): Promise<ConfigMap> {
    const input = parseBody(configMapInput, body, KIND, namespace);
    const record = {
      metadata: { name: input.metadata.name, namespace, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
      spec: contentsOf(input),
      status: {},
    };
    if (dryRun) {
      if (await this.configMaps.find(namespace, input.metadata.name)) throw ApiError.alreadyExists(KIND, input.metadata.name);
      return configMapView(dryRunPreview<ConfigMapRecord>(KIND, record));
    }
    return configMapView(await this.configMaps.create(record));
  }

  async update({ namespace, name, body }: UpdateRequest): Promise<ConfigMap> {
    const input = parseBody(configMapInput, body, KIND, namespace);
    const spec = contentsOf(input);
    const updated = await this.configMaps.update(
      namespace,
      name,
      (current) => {
        assertMutable(KIND, name, current.spec, spec);
        return updatedFrom(current, { metadata: input.metadata, spec });
      },
      { resourceVersion: input.metadata.resourceVersion },
    );
    return configMapView(updated);
  }

  async delete({ namespace, name }: DeleteRequest): Promise<Status> {
    await this.configMaps.delete(namespace, name);
    return successStatus(`configmap "${name}" deleted`, { kind: KIND, name });
  }
}

function contentsOf(input: { data: Record<string, string>; binaryData: Record<string, string>; immutable?: boolean }): ConfigMapContents {
  return { data: input.data, binaryData: input.binaryData, ...(input.immutable !== undefined ? { immutable: input.immutable } : {}) };
}

/**
 * Kubernetes' rule for `immutable: true`: the data (and the flag) stay as they are; only the
 * metadata may change, and the object may be deleted and made again.
 */
export function assertMutable<C extends { immutable?: boolean }>(kind: string, name: string, current: C, next: C): void {
  if (current.immutable !== true) return;
  const { immutable: _current, ...was } = current;
  const { immutable, ...will } = next;
  if (immutable !== true) throw ApiError.invalid(kind, name, 'immutable', 'field is immutable when `immutable` is set');
  if (!isDeepStrictEqual(was, will)) throw ApiError.invalid(kind, name, 'data', 'field is immutable when `immutable` is set');
}
