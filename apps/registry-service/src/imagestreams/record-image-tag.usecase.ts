import { Injectable, Logger } from '@nestjs/common';
import type { ImageStream, TagEvent } from '@paas/contracts/images';
import { tagName } from '@paas/contracts/images';
import { ApiError } from '@paas/platform/api-error';
import { loadConfig } from '@paas/platform/config';
import { EventBus } from '@paas/platform/events';
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
 * change. Concurrent pushes are safe: the update re-reads and retries on a lost race.
 */
@Injectable()
export class RecordImageTag {
  private readonly logger = new Logger(RecordImageTag.name);

  constructor(
    private readonly streams: ImageStreamRepository,
    private readonly events: EventBus,
  ) {}

  /** The new tag event, or undefined when nothing changed (not a stream's repository, or the tag already points there). */
  async execute(push: PushedTag): Promise<TagEvent | undefined> {
    const key = imageStreamKeyOf(push.repository);
    if (!key || !tagName.safeParse(push.tag).success) return undefined;
    await this.ensureStream(key.namespace, key.name);

    let recorded: TagEvent | undefined;
    const stream = await this.streams.update(key.namespace, key.name, (current) => {
      const event = tagEventOf(current, push.digest, new Date().toISOString());
      const next = withTagEvent(current, push.tag, event);
      recorded = next ? event : undefined;
      return next;
    });
    if (!recorded) return undefined;

    await this.events.publish(
      'imagestream.updated',
      { ...key, tag: push.tag, image: recorded.image, dockerImageReference: recorded.dockerImageReference, generation: recorded.generation },
      { id: `imagestream-${stream.metadata.uid}-${stream.metadata.resourceVersion}` },
    );
    this.logger.log({ msg: `imagestream ${key.namespace}/${key.name}:${push.tag} now at ${push.digest}` });
    return recorded;
  }

  private async ensureStream(namespace: string, name: string): Promise<ImageStream> {
    const existing = await this.streams.find(namespace, name);
    if (existing) return existing;
    const status = emptyStatus(loadConfig().registryHost, namespace, name);
    return this.streams.create({ metadata: { name, namespace }, spec: { tags: [] }, status }).catch(async (error: unknown) => {
      // Another push created it meanwhile.
      if (error instanceof ApiError && error.status.reason === 'AlreadyExists') return this.streams.get(namespace, name);
      throw error;
    });
  }
}
