import { Inject, Injectable } from '@nestjs/common';
import type { ImageStream } from '@paas/contracts/images';
import { InformerCache } from '@paas/platform/informer';
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
export class ImageStreamCache extends InformerCache<ImageStream> {
  constructor(
    @Inject(ImageStreamRepository) store: ImageStreamRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(REGISTRY_SETTINGS) settings: Pick<RegistrySettings, 'resyncMs'>,
  ) {
    super(store, feed, { resyncMs: settings.resyncMs });
  }
}
