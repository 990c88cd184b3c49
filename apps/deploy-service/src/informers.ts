import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DeploymentConfig, Pod, ReplicationController, Service } from '@paas/contracts/deployments';
import type { Node } from '@paas/contracts/nodes';
import type { LimitRange, ResourceQuota } from '@paas/contracts/quotas';
import { Informer } from '@paas/platform/informer';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { ConfigMapRepository, type ConfigMapRecord } from './configmaps/configmap.repository';
import { DEPLOY_SETTINGS, type DeploySettings } from './deploy-settings';
import { DeploymentConfigRepository } from './deploymentconfigs/deploymentconfig.repository';
import { EndpointsRepository, type EndpointsRecord } from './endpoints/endpoints.repository';
import { NodeRepository } from './nodes/node.repository';
import { PodRepository } from './pods/pod.repository';
import { LimitRangeRepository, ResourceQuotaRepository } from './quotas/quota.repositories';
import { ReplicationControllerRepository } from './replicationcontrollers/replicationcontroller.repository';
import { SecretRepository, type SecretRecord } from './secrets/secret.repository';
import { ServiceRepository } from './services/service.repository';

/**
 * The deploy-service's caches of everything it owns, one informer per kind, filled before
 * the controllers start (module init) and kept by the change feed: the reconcilers read
 * here, never the database, so an idle control plane reads nothing, and every change tells
 * them which keys to reconcile (reconcile-queues.ts).
 */
@Injectable()
export class DeployInformers implements OnModuleInit, OnApplicationShutdown {
  readonly dcs: Informer<DeploymentConfig>;
  readonly rcs: Informer<ReplicationController>;
  readonly pods: Informer<Pod>;
  readonly services: Informer<Service>;
  readonly endpoints: Informer<EndpointsRecord>;
  readonly nodes: Informer<Node>;
  readonly configMaps: Informer<ConfigMapRecord>;
  /** Sealed, as stored: opened only where a container's environment needs a value. */
  readonly secrets: Informer<SecretRecord>;
  readonly resourceQuotas: Informer<ResourceQuota>;
  readonly limitRanges: Informer<LimitRange>;

  constructor(
    @Inject(DeploymentConfigRepository) dcs: DeploymentConfigRepository,
    @Inject(ReplicationControllerRepository) rcs: ReplicationControllerRepository,
    @Inject(PodRepository) pods: PodRepository,
    @Inject(ServiceRepository) services: ServiceRepository,
    @Inject(EndpointsRepository) endpoints: EndpointsRepository,
    @Inject(NodeRepository) nodes: NodeRepository,
    @Inject(ConfigMapRepository) configMaps: ConfigMapRepository,
    @Inject(SecretRepository) secrets: SecretRepository,
    @Inject(ResourceQuotaRepository) resourceQuotas: ResourceQuotaRepository,
    @Inject(LimitRangeRepository) limitRanges: LimitRangeRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(DEPLOY_SETTINGS) settings: DeploySettings,
  ) {
    const options = { resyncMs: settings.resyncMs };
    this.dcs = new Informer(dcs, feed, options);
    this.rcs = new Informer(rcs, feed, options);
    this.pods = new Informer(pods, feed, options);
    this.services = new Informer(services, feed, options);
    this.endpoints = new Informer(endpoints, feed, options);
    this.nodes = new Informer(nodes, feed, options);
    this.configMaps = new Informer(configMaps, feed, options);
    this.secrets = new Informer(secrets, feed, options);
    this.resourceQuotas = new Informer(resourceQuotas, feed, options);
    this.limitRanges = new Informer(limitRanges, feed, options);
  }

  private get all() {
    return [this.dcs, this.rcs, this.pods, this.services, this.endpoints, this.nodes, this.configMaps, this.secrets, this.resourceQuotas, this.limitRanges];
  }

  async onModuleInit() {
    await Promise.all(this.all.map((informer) => informer.start()));
  }

  onApplicationShutdown() {
    for (const informer of this.all) informer.stop();
  }
}
