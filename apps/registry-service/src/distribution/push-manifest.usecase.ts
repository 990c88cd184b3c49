import { Injectable, Logger } from '@nestjs/common';
import { EventBus, STREAM_ELECTION_MS } from '@paas/platform/events';
import { FollowTagReferences } from '../imagestreams/follow-tag-references.usecase';
import { RecordImageTag } from '../imagestreams/record-image-tag.usecase';
import { imageStreamKeyOf } from '../imagestreams/tag-history';
import { Manifests, type StoredManifest } from './manifests';

/**
 * `PUT /v2/<name>/manifests/<reference>`: stores the manifest, then tells the platform:
 * `image.pushed` for every manifest stored, and for a tag the ImageStream's history moves
 * (`imagestream.updated`), and so do the tags that follow it. Both happen before the client hears 201, so a finished
 * `docker push` means the ImageStream is up to date.
 */
@Injectable()
export class PushManifest {
  private readonly logger = new Logger(PushManifest.name);

  constructor(
    private readonly manifests: Manifests,
    private readonly imageTags: RecordImageTag,
    private readonly references: FollowTagReferences,
    private readonly events: EventBus,
  ) {}

  async execute(repository: string, reference: string, body: Buffer, contentType: string | undefined): Promise<StoredManifest> {
    const stored = await this.manifests.put(repository, reference, body, contentType);
    this.logger.log({ msg: `manifest ${repository}${stored.tag ? `:${stored.tag}` : ''} pushed as ${stored.digest}`, repository, digest: stored.digest });
    await Promise.all([
      // No outbox for it: a push during a NATS cluster's leader election waits it out rather than fail with 500.
      this.events.publish('image.pushed', { repository, tag: stored.tag, digest: stored.digest, mediaType: stored.mediaType }, { retryMs: STREAM_ELECTION_MS }),
      stored.tag && this.moveStreamTag(repository, stored.tag, stored.digest),
    ]);
    return stored;
  }

  /** The ImageStream's tag, then every tag that follows it. */
  private async moveStreamTag(repository: string, tag: string, digest: string) {
    if (!(await this.imageTags.execute({ repository, tag, digest }))) return;
    const stream = imageStreamKeyOf(repository);
    if (stream) await this.references.tagMoved(stream.namespace, stream.name, tag, digest);
  }
}
