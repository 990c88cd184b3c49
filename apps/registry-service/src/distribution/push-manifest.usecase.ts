import { Injectable, Logger } from '@nestjs/common';
import { FollowTagReferences } from '../imagestreams/follow-tag-references.usecase';
import { RecordImageTag } from '../imagestreams/record-image-tag.usecase';
import { imageStreamKeyOf } from '../imagestreams/tag-history';
import { Manifests, type StoredManifest } from './manifests';

/**
 * `PUT /v2/<name>/manifests/<reference>`: stores the manifest and, for a tag, moves the
 * ImageStream's history (whose write owes `imagestream.updated` through its outbox) and the
 * tags that follow it, before the client hears 201: a finished `docker push` means the
 * ImageStream is up to date. A manifest pushed by digest alone moves no ImageStream and
 * announces nothing.
 */
@Injectable()
export class PushManifest {
  private readonly logger = new Logger(PushManifest.name);

  constructor(
    private readonly manifests: Manifests,
    private readonly imageTags: RecordImageTag,
    private readonly references: FollowTagReferences,
  ) {}

  async execute(repository: string, reference: string, body: Buffer, contentType: string | undefined): Promise<StoredManifest> {
    const stored = await this.manifests.put(repository, reference, body, contentType);
    this.logger.log({ msg: `manifest ${repository}${stored.tag ? `:${stored.tag}` : ''} pushed as ${stored.digest}`, repository, digest: stored.digest });
    if (stored.tag) await this.moveStreamTag(repository, stored.tag, stored.digest);
    return stored;
  }

  /** The ImageStream's tag, then every tag that follows it. */
  private async moveStreamTag(repository: string, tag: string, digest: string) {
    if (!(await this.imageTags.execute({ repository, tag, digest }))) return;
    const stream = imageStreamKeyOf(repository);
    if (stream) await this.references.tagMoved(stream.namespace, stream.name, tag, digest);
  }
}
