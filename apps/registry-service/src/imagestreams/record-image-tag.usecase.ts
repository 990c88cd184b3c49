import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ImageStream, TagEvent } from '@paas/contracts/images';
import { tagName } from '@paas/contracts/images';
import { ApiError } from '@paas/platform/api-error';
import { loadConfig } from '@paas/platform/config';
import type { OutboxEvent, ResourceStore } from '@paas/platform/resource-repository';
import { ImageStreamRepository } from './imagestream.repository';
import { emptyStatus, imageStreamKeyOf, tagEventOf, withTagEvent } from './tag-history';

export interface PushedTag {
  /** `<namespace>/<name>` */
  repository: string;
  tag: string;
  digest: string;
}

/**
 * A tag pushed into `<namespace>/<name>` moves the ImageStream's tag, as OpenShift's
 * integrated registry does: the stream is created if missing, the new image becomes the
 * newest item of the tag's history, and `imagestream.updated` is published once per
 * change: it is written in the stream's own update (its outbox), published right after,
 * or by the OutboxRelay if this process dies in between. Concurrent pushes are safe: the
 * update re-reads and retries on a lost race.
 */
@Injectable()
export class RecordImageTag {
  private readonly logger = new Logger(RecordImageTag.name);

  constructor(@Inject(ImageStreamRepository) private readonly streams: ResourceStore<ImageStream>) {}

  /** The new tag event, or undefined when nothing changed (not a stream's repository, or the tag already points there). */
  async execute(push: PushedTag): Promise<TagEvent | undefined> {
    const key = imageStreamKeyOf(push.repository);
    if (!key || !tagName.safeParse(push.tag).success) return undefined;

    let recorded: TagEvent | undefined;
    const record = () =>
      this.streams.update(
        key.namespace,
        key.name,
        (current) => {
          const event = tagEventOf(current, push.digest, new Date().toISOString());
          const next = withTagEvent(current, push.tag, event);
          recorded = next ? event : undefined;
          return next;
        },
        { outbox: (next) => (recorded ? [imageStreamUpdated(next, push.tag, recorded)] : []) },
      );
    // The stream exists but for the first push into a repository.
    await record().catch(async (error: unknown) => {
      if (!(error instanceof ApiError && error.status.code === 404)) throw error;
      await this.createStream(key.namespace, key.name);
      return record();
    });
    if (!recorded) return undefined;
    this.logger.log({ msg: `imagestream ${key.namespace}/${key.name}:${push.tag} now at ${push.digest}` });
    return recorded;
  }

  private async createStream(namespace: string, name: string): Promise<void> {
    const status = emptyStatus(loadConfig().registryHost, namespace, name);
    await this.streams.create({ metadata: { name, namespace }, spec: { tags: [] }, status }).catch((error: unknown) => {
      // Another push created it meanwhile.
      if (!(error instanceof ApiError && error.status.reason === 'AlreadyExists')) throw error;
    });
  }
}

/** The event a tag's move owes the bus, its id unique to that write of the stream. */
function imageStreamUpdated(stream: ImageStream, tag: string, event: TagEvent): OutboxEvent<'imagestream.updated'> {
  const { namespace, name, uid, resourceVersion } = stream.metadata;
  return {
    id: `imagestream-${uid}-${resourceVersion}`,
    type: 'imagestream.updated',
    data: { namespace, name, uid, tag, image: event.image, dockerImageReference: event.dockerImageReference, generation: event.generation },
  };
}
