import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { builderStreamTag } from '@paas/contracts/builds';
import { EventBus } from '@paas/platform/events';
import { builderRefOf } from '../builds/pipeline/s2i-roles';
import { BuildConfigCache } from './buildconfig-cache';
import { InstantiateBuild } from './instantiate-build.usecase';

/**
 * `imagestream.updated` (durable, shared by replicas): a new image on a stream tag starts a
 * build of every BuildConfig whose builder is that tag (of its own namespace, or of another
 * namespace by name) and that has an ImageChange trigger, once per image
 * (InstantiateBuild.forImageChange), so a new builder image rebuilds every app that uses it.
 * The BuildConfigs of every namespace are looked through on each push: in the cache, not the
 * database.
 */
@Injectable()
export class BuilderImageChangedHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger(BuilderImageChangedHandler.name);

  constructor(
    @Inject(EventBus) private readonly events: EventBus,
    @Inject(BuildConfigCache) private readonly buildConfigs: Pick<BuildConfigCache, 'list'>,
    @Inject(InstantiateBuild) private readonly instantiate: InstantiateBuild,
  ) {}

  async onApplicationBootstrap() {
    await this.events.subscribe('imagestream.updated', async ({ data }) => {
      const tag = `${data.name}:${data.tag}`;
      const following = (await this.buildConfigs.list()).filter((bc) => {
        const stream = builderStreamTag(builderRefOf(bc.spec), bc.metadata.namespace);
        // A Binary BuildConfig's files come with each upload: a new builder image has nothing to rebuild.
        return stream?.namespace === data.namespace && stream.name === tag && bc.spec.source.type !== 'Binary' && bc.spec.triggers.some((trigger) => trigger.type === 'ImageChange');
      });
      for (const bc of following) {
        const from = bc.metadata.namespace === data.namespace ? tag : `${data.namespace}/${tag}`;
        const build = await this.instantiate.forImageChange(bc.metadata.namespace, bc.metadata.name, from, data.image);
        if (build) this.logger.log({ msg: `${data.namespace}/${tag} is now ${data.image}: started ${bc.metadata.namespace}/${build.metadata.name}` });
      }
    });
  }
}
