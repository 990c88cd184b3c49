import { Inject, Injectable } from '@nestjs/common';
import { IMAGE_STREAM_TAG_NAME, imageStreamInput, parseImageStreamTag, type ImageStream, type ImageStreamTag } from '@paas/contracts/images';
import type { ResourceList } from '@paas/contracts/meta';
import type { CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '@paas/contracts/rpc';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { loadConfig } from '@paas/platform/config';
import { dryRunPreview, listResponse, parseBody } from '@paas/platform/rpc-input';
import { RegistryMetadataRepository } from '../distribution/registry-metadata.repository';
import { FollowTagReferences } from './follow-tag-references.usecase';
import { ImageStreamRepository } from './imagestream.repository';
import { emptyStatus } from './tag-history';

const KIND = 'ImageStream';

/**
 * ImageStreams as a resource: users own `metadata` and `spec`; `status` (the repository
 * to push to and each tag's history) is written only by pushes to the registry. A stream
 * is its repository: deleting it forgets the repository's tags, manifests and blob links
 * (what no other repository links, garbage collection then removes from the store).
 */
@Injectable()
export class ImageStreamsService {
  constructor(
    private readonly streams: ImageStreamRepository,
    private readonly references: FollowTagReferences,
    @Inject(RegistryMetadataRepository) private readonly registry: Pick<RegistryMetadataRepository, 'deleteRepository'>,
  ) {}

  async create(request: CreateRequest): Promise<ImageStream> {
    const input = parseBody(imageStreamInput, request.body, KIND, request.namespace);
    const { name, labels, annotations } = input.metadata;
    const resource = {
      metadata: { name, namespace: request.namespace, labels, annotations },
      spec: input.spec,
      status: emptyStatus(loadConfig().registryHost, request.namespace, name),
    };
    if (!request.dryRun) return this.withReferencesFollowed(await this.streams.create(resource));
    if (await this.streams.find(request.namespace, name)) throw ApiError.alreadyExists(KIND, name);
    return dryRunPreview<ImageStream>(KIND, resource);
  }

  get(request: GetRequest): Promise<ImageStream> {
    return this.streams.get(request.namespace, request.name);
  }

  /** `<stream>:<tag>` and the image it points at now; 404 while the tag has no image. */
  async getTag(request: GetRequest): Promise<ImageStreamTag> {
    if (!IMAGE_STREAM_TAG_NAME.test(request.name)) throw ApiError.of('BadRequest', `"${request.name}" is not an ImageStreamTag name (<imagestream>:<tag>)`);
    const { stream: name, tag } = parseImageStreamTag(request.name);
    const stream = await this.streams.get(request.namespace, name);
    const history = stream.status.tags.find((t) => t.tag === tag)?.items ?? [];
    if (!history.length) throw ApiError.notFound('ImageStreamTag', request.name);
    const { uid, resourceVersion, creationTimestamp } = stream.metadata;
    return {
      apiVersion: 'v1',
      kind: 'ImageStreamTag',
      metadata: { name: request.name, namespace: request.namespace, uid, resourceVersion, creationTimestamp },
      tag: stream.spec.tags.find((t) => t.name === tag),
      image: history[0],
      historyLength: history.length,
    };
  }

  list(request: ListRequest): Promise<ResourceList<ImageStream>> {
    return listResponse(KIND, this.streams, request);
  }

  /** Replaces labels, annotations and spec; a stale `metadata.resourceVersion` gets 409. */
  async update(request: UpdateRequest): Promise<ImageStream> {
    const input = parseBody(imageStreamInput, request.body, KIND, request.namespace);
    if (input.metadata.name !== request.name) {
      throw ApiError.of('BadRequest', `the name of the object (${input.metadata.name}) does not match the name on the URL (${request.name})`);
    }
    const updated = await this.streams.update(
      request.namespace,
      request.name,
      (current) => ({ ...current, metadata: { ...current.metadata, labels: input.metadata.labels, annotations: input.metadata.annotations }, spec: input.spec }),
      { resourceVersion: input.metadata.resourceVersion },
    );
    return this.withReferencesFollowed(updated);
  }

  /** The stream after its tag references took their sources' current images (re-read when any moved). */
  private async withReferencesFollowed(stream: ImageStream): Promise<ImageStream> {
    if (!stream.spec.tags.length) return stream;
    await this.references.resolve(stream);
    return this.streams.get(stream.metadata.namespace, stream.metadata.name);
  }

  async delete(request: DeleteRequest): Promise<Status> {
    const deleted = await this.streams.delete(request.namespace, request.name);
    // Else the images of a deleted stream (of a deleted namespace) would stay for good, counted
    // against a namespace of that name made later.
    await this.registry.deleteRepository(`${request.namespace}/${request.name}`);
    return successStatus(`imagestream "${deleted.metadata.name}" deleted`, { name: deleted.metadata.name, kind: KIND });
  }
}
