import { Global, Module } from '@nestjs/common';
import { KeepAliveProber } from './adapters/http-prober';
import { HTTP_PROBER } from './adapters/runtime.tokens';
import { DEPLOY_SETTINGS, loadDeploySettings } from './deploy-settings';
import { CLUSTER, NodeCluster } from './nodes/cluster';
import { NodeEngines } from './nodes/node-engines';
import { loadSecretCipher, SECRET_CIPHER } from './secrets/secret-cipher';

/**
 * The nodes' engines and the cluster the reconcilers drive through them, the readiness
 * prober's HTTP client, the loop settings, and the key Secrets are sealed with.
 */
@Global()
@Module({
  providers: [
    { provide: DEPLOY_SETTINGS, useFactory: () => loadDeploySettings() },
    NodeEngines,
    { provide: CLUSTER, useClass: NodeCluster },
    { provide: HTTP_PROBER, useFactory: () => new KeepAliveProber() },
    { provide: SECRET_CIPHER, useFactory: () => loadSecretCipher() },
  ],
  exports: [DEPLOY_SETTINGS, NodeEngines, CLUSTER, HTTP_PROBER, SECRET_CIPHER],
})
export class RuntimeModule {}
