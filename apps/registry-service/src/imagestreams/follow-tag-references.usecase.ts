import { Injectable } from '@nestjs/common';
import { parseImageStreamTag, type ImageStream } from '@paas/contracts/images';
import { RegistryMetadataRepository } from '../distribution/registry-metadata.repository';
import { ImageStreamCache } from './imagestream-cache';
import { ImageStreamRepository } from './imagestream.repository';
import { RecordImageTag } from './record-image-tag.usecase';

/** How long a chain of references (`prod` follows `staging` follows `latest`) may be followed. */
const MAX_CHAIN = 5;

/**
 * Tag references (`spec.tags[].from`, `oc tag`-style): a tag that follows `<stream>:<tag>`
 * of its namespace gets each image its source gets, as a new item of its own history (and
 * so its own `imagestream.updated`, which rolls out whatever follows it). The registry
 * serves the image under the following stream's repository too: its manifest and blobs are
 * linked there, the bytes shared.
 */
@Injectable()
export class FollowTagReferences {
  constructor(
    private readonly streams: ImageStreamRepository,
    private readonly cache: ImageStreamCache,
    private readonly metadata: RegistryMetadataRepository,
    private readonly imageTags: RecordImageTag,
  ) {}

  /** Tag `stream:tag` of `namespace` moved to `digest`: every tag that follows it moves too. */
  async tagMoved(namespace: string, stream: string, tag: string, digest: string, depth = 0): Promise<void> {
    if (depth >= MAX_CHAIN) return;
    for (const follower of await this.cache.list({ namespace })) {
      for (const reference of follower.spec.tags) {
        const source = parseImageStreamTag(reference.from.name);
        if (source.stream === stream && source.tag === tag) await this.follow(namespace, stream, follower.metadata.name, reference.name, digest, depth);
      }
    }
  }

  /** A stream's references were (re)defined: each takes the image its source tag has now. */
  async resolve(stream: ImageStream): Promise<void> {
    const { namespace, name } = stream.metadata;
    for (const reference of stream.spec.tags) {
      const source = parseImageStreamTag(reference.from.name);
      const sourceStream = source.stream === name ? stream : await this.streams.find(namespace, source.stream);
      const digest = sourceStream?.status.tags.find((t) => t.tag === source.tag)?.items[0]?.image;
      if (digest) await this.follow(namespace, source.stream, name, reference.name, digest, 0);
    }
  }

  private async follow(namespace: string, fromStream: string, toStream: string, toTag: string, digest: string, depth: number) {
    const from = `${namespace}/${fromStream}`;
    const to = `${namespace}/${toStream}`;
    // A history item whose manifest was deleted from the registry is not followed.
    const available = from === to ? (await this.metadata.manifest(to, digest)) !== undefined : await this.metadata.copyManifest(from, to, digest);
    if (!available) return;
    await this.metadata.setTag(to, toTag, digest);
    const moved = await this.imageTags.execute({ repository: to, tag: toTag, digest });
    if (moved) await this.tagMoved(namespace, toStream, toTag, digest, depth + 1);
  }
}
