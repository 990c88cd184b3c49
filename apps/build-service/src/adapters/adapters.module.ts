import { Global, Module } from '@nestjs/common';
import { BINARY_INPUTS, NatsBinaryInputs } from '@paas/platform/binary-inputs';
import { RegistryTokenClient } from '@paas/platform/registry-tokens';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { NatsConnection } from 'nats';
import { RpcClient } from '@paas/platform/rpc';
import { BUILD_SETTINGS, loadBuildSettings, type BuildSettings } from '../build-settings';
import { REGISTRY_CREDENTIALS } from '../builds/pipeline/container-runtime';
import { BUILD_LOGS, BuildLogFiles } from './build-log-files';
import { BUILDER_STREAMS, RpcBuilderStreams } from './builder-streams';
import { GIT, GitCli } from './git-cli';
import { RpcSourceSecrets, SOURCE_SECRETS } from './source-secrets';

/** Infrastructure behind our own interfaces (the nodes' Docker engines are in NodesModule): git, source secrets, builder stream tags, Binary builds' uploads, build log files, registry tokens, settings. */
@Global()
@Module({
  providers: [
    { provide: BUILD_SETTINGS, useFactory: () => loadBuildSettings() },
    { provide: GIT, useClass: GitCli },
    { provide: REGISTRY_CREDENTIALS, inject: [RpcClient], useFactory: (rpc: RpcClient) => new RegistryTokenClient(rpc, 'system:build-service') },
    { provide: BUILDER_STREAMS, inject: [RpcClient], useFactory: (rpc: RpcClient) => new RpcBuilderStreams(rpc) },
    { provide: SOURCE_SECRETS, inject: [RpcClient], useFactory: (rpc: RpcClient) => new RpcSourceSecrets(rpc) },
    { provide: BUILD_LOGS, inject: [BUILD_SETTINGS], useFactory: (settings: BuildSettings) => new BuildLogFiles(settings.buildsDir, settings.logMaxBytes) },
    { provide: BINARY_INPUTS, inject: [NATS_CONNECTION], useFactory: (nats: NatsConnection) => new NatsBinaryInputs(nats) },
  ],
  exports: [BUILD_SETTINGS, GIT, BUILD_LOGS, REGISTRY_CREDENTIALS, SOURCE_SECRETS, BUILDER_STREAMS, BINARY_INPUTS],
})
export class AdaptersModule {}
