import { Module } from '@nestjs/common';
import type { HttpServiceOptions } from '@paas/platform/bootstrap';
import { CoordinationModule } from '@paas/platform/coordination.module';
import { HealthModule } from '@paas/platform/health.module';
import { MetricsModule } from '@paas/platform/metrics.module';
import { MessagingModule } from '@paas/platform/messaging.module';
import { mongoRoot } from '@paas/platform/mongo';
import { BASE_PORTS } from '@paas/platform/ports';
import { ConfigMapsModule } from './configmaps/configmaps.module';
import { DeploymentConfigsModule } from './deploymentconfigs/deploymentconfigs.module';
import { EndpointsModule } from './endpoints/endpoints.module';
import { NodesModule } from './nodes/nodes.module';
import { PodsModule } from './pods/pods.module';
import { QuotasModule } from './quotas/quotas.module';
import { ReconcileModule } from './reconcile/reconcile.module';
import { ReplicationControllersModule } from './replicationcontrollers/replicationcontrollers.module';
import { RepositoriesModule } from './repositories.module';
import { RuntimeModule } from './runtime.module';
import { SecretsModule } from './secrets/secrets.module';
import { ServicesModule } from './services/services.module';
import { loadDeploySettings } from './deploy-settings';
import { loadSecretCipher } from './secrets/secret-cipher';

export const SERVICE_NAME = 'deploy-service';

@Module({
  imports: [
    MessagingModule.forRoot(SERVICE_NAME),
    mongoRoot('paas_deploy'),
    CoordinationModule.forRoot(),
    HealthModule,
    MetricsModule,
    RuntimeModule,
    RepositoriesModule,
    ReconcileModule,
    PodsModule,
    ReplicationControllersModule,
    EndpointsModule,
    DeploymentConfigsModule,
    ServicesModule,
    NodesModule,
    ConfigMapsModule,
    SecretsModule,
    QuotasModule,
  ],
})
export class AppModule {}

/** Port 8020 (+100 per replica) answers health checks only: the API is NATS request/reply. */
export const DEPLOY_SERVICE_OPTIONS: HttpServiceOptions = { name: SERVICE_NAME, defaultPort: BASE_PORTS.deploy, checkSettings: () => [loadDeploySettings(), loadSecretCipher()] };
