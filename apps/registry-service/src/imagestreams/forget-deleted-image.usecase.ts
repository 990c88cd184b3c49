import { Injectable, Logger } from '@nestjs/common';
import { ImageStreamRepository } from './imagestream.repository';
import { imageStreamKeyOf, withoutDeleted } from './tag-history';

/**
 * A manifest or tag deleted from `<namespace>/<name>` leaves the ImageStream too, so the
 * stream never offers an image the registry no longer serves: a tag pointing at a deleted
 * image (or a deleted tag) is removed, older history items of a deleted image dropped.
 * No event: nothing rolls out because an image went away, and running pods keep theirs.
 */
@Injectable()
export class ForgetDeletedImage {
  private readonly logger = new Logger(ForgetDeletedImage.name);

  constructor(private readonly streams: ImageStreamRepository) {}

  async execute(repository: string, deleted: { digest: string } | { tag: string }): Promise<void> {
    const key = imageStreamKeyOf(repository);
    if (!key || !(await this.streams.find(key.namespace, key.name))) return;
    let changed = false;
    await this.streams.update(key.namespace, key.name, (current) => {
      const next = withoutDeleted(current, deleted);
      changed = next !== undefined;
      return next;
    });
    if (changed) {
      this.logger.log({ msg: `imagestream ${key.namespace}/${key.name}: forgot ${'tag' in deleted ? `tag ${deleted.tag}` : `image ${deleted.digest}`}, deleted from the registry` });
    }
  }
}
