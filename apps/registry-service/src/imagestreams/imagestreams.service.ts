import { Injectable } from '@nestjs/common';
import { imageStreamInput, type ImageStream, type ImageStreamInput } from '@paas/contracts/images';
import { API_VERSION, parseLabelSelector, type ResourceList } from '@paas/contracts/meta';
import type { CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { loadConfig } from '@paas/platform/config';
import { ImageStreamRepository } from './imagestream.repository';
import { emptyStatus } from './tag-history';

const KIND = 'ImageStream';

/**
 * ImageStreams as a resource: users own `metadata` and `spec`; `status` (the repository
 * to push to and each tag's history) is written only by pushes to the registry.
 */
@Injectable()
export class ImageStreamsService {
  constructor(private readonly streams: ImageStreamRepository) {}

  async create(request: CreateRequest): Promise<ImageStream> {
    const input = this.parse(request.body, request.namespace);
    const { name, labels, annotations } = input.metadata;
    const resource = {
      metadata: { name, namespace: request.namespace, labels, annotations },
      spec: input.spec,
      status: emptyStatus(loadConfig().registryHost, request.namespace, name),
    };
    if (!request.dryRun) return this.streams.create(resource);
    if (await this.streams.find(request.namespace, name)) throw ApiError.alreadyExists(KIND, name);
    const metadata = { ...resource.metadata, uid: '', resourceVersion: '', generation: 1, creationTimestamp: new Date().toISOString() };
    return { apiVersion: API_VERSION, kind: KIND, ...resource, metadata };
  }

  get(request: GetRequest): Promise<ImageStream> {
    return this.streams.get(request.namespace, request.name);
  }

  async list(request: ListRequest): Promise<ResourceList<ImageStream>> {
    let labels;
    try {
      labels = parseLabelSelector(request.labelSelector);
    } catch (error) {
      throw ApiError.of('BadRequest', `invalid labelSelector: ${(error as Error).message}`);
    }
    const items = await this.streams.list({ namespace: request.namespace, labels });
    return { apiVersion: API_VERSION, kind: 'ImageStreamList', metadata: {}, items };
  }

  /** Replaces labels, annotations and spec; a stale `metadata.resourceVersion` gets 409. */
  async update(request: UpdateRequest): Promise<ImageStream> {
    const input = this.parse(request.body, request.namespace);
    if (input.metadata.name !== request.name) {
      throw ApiError.of('BadRequest', `the name of the object (${input.metadata.name}) does not match the name on the URL (${request.name})`);
    }
    return this.streams.update(
      request.namespace,
      request.name,
      (current) => ({ ...current, metadata: { ...current.metadata, labels: input.metadata.labels, annotations: input.metadata.annotations }, spec: input.spec }),
      { resourceVersion: input.metadata.resourceVersion },
    );
  }

  async delete(request: DeleteRequest): Promise<Status> {
    const deleted = await this.streams.delete(request.namespace, request.name);
    return successStatus(`imagestream "${deleted.metadata.name}" deleted`, { name: deleted.metadata.name, kind: KIND });
  }

  private parse(body: unknown, namespace: string): ImageStreamInput {
    const name = (body as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
    const result = validate(imageStreamInput, body, KIND, typeof name === 'string' ? name : undefined);
    if (!result.ok) throw new ApiError(result.status);
    if (result.value.metadata.namespace !== undefined && result.value.metadata.namespace !== namespace) {
      throw ApiError.of('BadRequest', `the namespace of the object (${result.value.metadata.namespace}) does not match the namespace of the request (${namespace})`);
    }
    return result.value;
  }
}
