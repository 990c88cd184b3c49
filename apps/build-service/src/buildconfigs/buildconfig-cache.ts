import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { BuildConfig } from '@paas/contracts/builds';
import { Informer, listsFromCache } from '@paas/platform/informer';
import type { ListFilter } from '@paas/platform/resource-repository';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildConfigRepository } from './buildconfig.repository';

/**
 * Every BuildConfig, kept by an informer: lists are answered from it while it is current
 * (Informer.current), from the database otherwise, so that a push (ImageChange triggers, which
 * look across every namespace) and a `buildconfigs` list read no database at rest.
 */
@Injectable()
export class BuildConfigCache implements OnModuleInit, OnApplicationShutdown {
  private readonly informer: Informer<BuildConfig>;
  readonly pages: ReturnType<typeof listsFromCache<BuildConfig>>;

  constructor(
    @Inject(BuildConfigRepository) private readonly store: BuildConfigRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(BUILD_SETTINGS) settings: BuildSettings,
  ) {
    this.informer = new Informer(store, feed, { resyncMs: settings.resyncMs });
    this.pages = listsFromCache(this.informer, store);
  }

  async onModuleInit() {
    await this.informer.start();
  }

  onApplicationShutdown() {
    this.informer.stop();
  }

  async list(filter: ListFilter = {}): Promise<BuildConfig[]> {
    return this.informer.current ? this.informer.list(filter) : this.store.list(filter);
  }
}
