import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { DeploymentConfig, Pod, ReplicationController, Service } from '@paas/contracts/deployments';
import { Informer } from '@paas/platform/informer';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { DEPLOY_SETTINGS, type DeploySettings } from './deploy-settings';
import { DeploymentConfigRepository } from './deploymentconfigs/deploymentconfig.repository';
import { EndpointsRepository, type EndpointsRecord } from './endpoints/endpoints.repository';
import { PodRepository } from './pods/pod.repository';
import { ReplicationControllerRepository } from './replicationcontrollers/replicationcontroller.repository';
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

  constructor(
    @Inject(DeploymentConfigRepository) dcs: DeploymentConfigRepository,
    @Inject(ReplicationControllerRepository) rcs: ReplicationControllerRepository,
    @Inject(PodRepository) pods: PodRepository,
    @Inject(ServiceRepository) services: ServiceRepository,
    @Inject(EndpointsRepository) endpoints: EndpointsRepository,
    @Inject(ResourceFeed) feed: ResourceFeed,
    @Inject(DEPLOY_SETTINGS) settings: DeploySettings,
  ) {
    const options = { resyncMs: settings.resyncMs };
    this.dcs = new Informer(dcs, feed, options);
    this.rcs = new Informer(rcs, feed, options);
    this.pods = new Informer(pods, feed, options);
    this.services = new Informer(services, feed, options);
    this.endpoints = new Informer(endpoints, feed, options);
  }

  private get all() {
    return [this.dcs, this.rcs, this.pods, this.services, this.endpoints];
  }

  async onModuleInit() {
    await Promise.all(this.all.map((informer) => informer.start()));
  }

  onApplicationShutdown() {
    for (const informer of this.all) informer.stop();
  }
}
