import { Inject, Injectable } from '@nestjs/common';
import type { BuildConfig } from '@paas/contracts/builds';
import { InformerCache, listsFromCache } from '@paas/platform/informer';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildConfigRepository } from './buildconfig.repository';

/**
 * Every BuildConfig, kept by an informer: lists are answered from it while it is current
 * (Informer.current), from the database otherwise, so that a push (ImageChange triggers, which
 * look across every namespace) and a `buildconfigs` list read no database at rest.
 */
@Injectable()
export class BuildConfigCache extends InformerCache<BuildConfig> {
  readonly pages: ReturnType<typeof listsFromCache<BuildConfig>>;

  constructor(
    @Inject(BuildConfigRepository) store: BuildConfigRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(BUILD_SETTINGS) settings: BuildSettings,
  ) {
    super(store, feed, { resyncMs: settings.resyncMs });
    this.pages = listsFromCache(this.informer, store);
  }
}
