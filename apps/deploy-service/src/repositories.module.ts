import { Global, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { CONFIGMAPS_COLLECTION, ConfigMapRepository } from './configmaps/configmap.repository';
import { DEPLOYMENTCONFIGS_COLLECTION, DeploymentConfigRepository } from './deploymentconfigs/deploymentconfig.repository';
import { ENDPOINTS_COLLECTION, EndpointsRepository } from './endpoints/endpoints.repository';
import { NODES_COLLECTION, NodeRepository } from './nodes/node.repository';
import { PODS_COLLECTION, PodRepository } from './pods/pod.repository';
import { REPLICATIONCONTROLLERS_COLLECTION, ReplicationControllerRepository } from './replicationcontrollers/replicationcontroller.repository';
import { LIMITRANGES_COLLECTION, LimitRangeRepository, RESOURCEQUOTAS_COLLECTION, ResourceQuotaRepository } from './quotas/quota.repositories';
import { SECRETS_COLLECTION, SecretRepository } from './secrets/secret.repository';
import { SERVICES_COLLECTION, ServiceRepository } from './services/service.repository';

const COLLECTIONS = [DEPLOYMENTCONFIGS_COLLECTION, REPLICATIONCONTROLLERS_COLLECTION, PODS_COLLECTION, SERVICES_COLLECTION, ENDPOINTS_COLLECTION, NODES_COLLECTION, CONFIGMAPS_COLLECTION, SECRETS_COLLECTION, RESOURCEQUOTAS_COLLECTION, LIMITRANGES_COLLECTION];
const REPOSITORIES = [DeploymentConfigRepository, ReplicationControllerRepository, PodRepository, ServiceRepository, EndpointsRepository, NodeRepository, ConfigMapRepository, SecretRepository, ResourceQuotaRepository, LimitRangeRepository];

/**
 * Every resource the deploy-service owns, in its database: the controllers read across
 * kinds (an RC reconcile reads pods and endpoints), so the repositories are shared.
 */
@Global()
@Module({
  imports: [MongooseModule.forFeature(COLLECTIONS.map((name) => ({ name, schema: storedResourceSchema(name) })))],
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class RepositoriesModule {}
