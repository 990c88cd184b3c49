import { Global, Module } from '@nestjs/common';
import { RegistryTokenClient } from '@paas/platform/registry-tokens';
import { RpcClient } from '@paas/platform/rpc';
import { BUILD_SETTINGS, loadBuildSettings, type BuildSettings } from '../build-settings';
import { REGISTRY_CREDENTIALS } from '../builds/pipeline/container-runtime';
import { BUILD_LOGS, BuildLogFiles } from './build-log-files';
import { BUILDER_STREAMS, RpcBuilderStreams } from './builder-streams';
import { GIT, GitCli } from './git-cli';
import { RpcSourceSecrets, SOURCE_SECRETS } from './source-secrets';

/** Infrastructure behind our own interfaces (the nodes' Docker engines are in NodesModule): git, source secrets, builder stream tags, build log files, registry tokens, settings. */
@Global()
@Module({
  providers: [
    { provide: BUILD_SETTINGS, useFactory: () => loadBuildSettings() },
    { provide: GIT, useClass: GitCli },
    { provide: REGISTRY_CREDENTIALS, inject: [RpcClient], useFactory: (rpc: RpcClient) => new RegistryTokenClient(rpc, 'system:build-service') },
    { provide: BUILDER_STREAMS, inject: [RpcClient], useFactory: (rpc: RpcClient) => new RpcBuilderStreams(rpc) },
    { provide: SOURCE_SECRETS, inject: [RpcClient], useFactory: (rpc: RpcClient) => new RpcSourceSecrets(rpc) },
    { provide: BUILD_LOGS, inject: [BUILD_SETTINGS], useFactory: (settings: BuildSettings) => new BuildLogFiles(settings.buildsDir, settings.logMaxBytes) },
  ],
  exports: [BUILD_SETTINGS, GIT, BUILD_LOGS, REGISTRY_CREDENTIALS, SOURCE_SECRETS, BUILDER_STREAMS],
})
export class AdaptersModule {}
