import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ImageStream } from '@paas/contracts/images';
import { Informer } from '@paas/platform/informer';
import type { ListFilter } from '@paas/platform/resource-repository';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry-settings';
import { ImageStreamRepository } from './imagestream.repository';

/**
 * Every ImageStream, kept by an informer: a pushed tag looks for the tags that follow it
 * here while the cache is current (Informer.current), in the database otherwise. Each tagged
 * push read the whole collection before (FerretDB filters in its own process: every stream of
 * every namespace, with its history, decoded), on the push's way to its answer.
 */
@Injectable()
export class ImageStreamCache implements OnModuleInit, OnApplicationShutdown {
  private readonly informer: Informer<ImageStream>;

  constructor(
    @Inject(ImageStreamRepository) private readonly store: ImageStreamRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(REGISTRY_SETTINGS) settings: Pick<RegistrySettings, 'resyncMs'>,
  ) {
    this.informer = new Informer(store, feed, { resyncMs: settings.resyncMs });
  }

  async onModuleInit() {
    await this.informer.start();
  }

  onApplicationShutdown() {
    this.informer.stop();
  }

  async list(filter: ListFilter = {}): Promise<ImageStream[]> {
    return this.informer.current ? this.informer.list(filter) : this.store.list(filter);
  }
}
