import { Global, Module } from '@nestjs/common';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { RpcClient } from '@paas/platform/rpc';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BUILD_NODES, dockerRuntimeOpener, InformedBuildNodes } from './build-nodes';

/** The nodes builds run on (the deploy-service's), cached, each with its engine. */
@Global()
@Module({
  providers: [
    {
      provide: BUILD_NODES,
      inject: [RpcClient, ResourceFeed, BUILD_SETTINGS],
      useFactory: (rpc: RpcClient, feed: ResourceFeed, settings: BuildSettings) => new InformedBuildNodes(rpc, feed, dockerRuntimeOpener(settings.containerLimits)),
    },
  ],
  exports: [BUILD_NODES],
})
export class NodesModule {}
