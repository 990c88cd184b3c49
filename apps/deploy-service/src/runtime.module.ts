import { Global, Module } from '@nestjs/common';
import { loadConfig } from '@paas/platform/config';
import { RegistryTokenClient } from '@paas/platform/registry-tokens';
import { RpcClient } from '@paas/platform/rpc';
import type { DockerClient } from './adapters/docker-client';
import { DockerodeClient } from './adapters/docker-client';
import { DockerRuntime } from './adapters/docker-runtime';
import { KeepAliveProber } from './adapters/http-prober';
import { CONTAINER_RUNTIME, DOCKER_CLIENT, HTTP_PROBER } from './adapters/runtime.tokens';
import { DEPLOY_SETTINGS, loadDeploySettings, type DeploySettings } from './deploy-settings';

/** The node (the local Docker engine), the readiness prober's HTTP client and the loop settings. */
@Global()
@Module({
  providers: [
    { provide: DEPLOY_SETTINGS, useFactory: () => loadDeploySettings() },
    { provide: DOCKER_CLIENT, useFactory: () => new DockerodeClient() },
    {
      provide: CONTAINER_RUNTIME,
      useFactory: (docker: DockerClient, settings: DeploySettings, rpc: RpcClient) =>
        new DockerRuntime(docker, settings.nodeName, { host: loadConfig().registryHost, credentials: new RegistryTokenClient(rpc, 'system:deploy-service') }),
      inject: [DOCKER_CLIENT, DEPLOY_SETTINGS, RpcClient],
    },
    { provide: HTTP_PROBER, useFactory: () => new KeepAliveProber() },
  ],
  exports: [DEPLOY_SETTINGS, DOCKER_CLIENT, CONTAINER_RUNTIME, HTTP_PROBER],
})
export class RuntimeModule {}
