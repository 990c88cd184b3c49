import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DEPLOYMENT_LABELS } from '@paas/contracts/deployments';
import { RUNTIME_LABELS, type ContainerRuntime } from '../adapters/container-runtime';
import { CONTAINER_RUNTIME } from '../adapters/runtime.tokens';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeploymentConfigRepository } from '../deploymentconfigs/deploymentconfig.repository';
import { EndpointsRepository } from '../endpoints/endpoints.repository';
import { ReplicationControllerRepository } from '../replicationcontrollers/replicationcontroller.repository';
import { ServiceRepository } from '../services/service.repository';
import { ReconcileQueues } from './reconcile-queues';

/**
 * Enqueues every object at start-up (a restarted deploy-service picks up where it stopped)
 * and again every `resyncMs` (exited containers, rollout deadlines, anything missed).
 */
@Injectable()
export class Resync implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Resync.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(ReconcileQueues) private readonly queues: ReconcileQueues,
    @Inject(DeploymentConfigRepository) private readonly dcs: DeploymentConfigRepository,
    @Inject(ReplicationControllerRepository) private readonly rcs: ReplicationControllerRepository,
    @Inject(ServiceRepository) private readonly services: ServiceRepository,
    @Inject(EndpointsRepository) private readonly endpoints: EndpointsRepository,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  onApplicationBootstrap() {
    void this.resync();
    this.timer = setInterval(() => void this.resync(), this.settings.resyncMs);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** Every key there is: stored objects, and owners named by containers or records whose owner is gone. */
  async resync(): Promise<void> {
    try {
      for (const dc of await this.dcs.list()) this.queues.deploymentConfig(dc.metadata.namespace, dc.metadata.name);
      for (const rc of await this.rcs.list()) {
        this.queues.replicationController(rc.metadata.namespace, rc.metadata.name);
        const dc = rc.metadata.labels?.[DEPLOYMENT_LABELS.deploymentConfig];
        if (dc) this.queues.deploymentConfig(rc.metadata.namespace, dc);
      }
      for (const container of await this.runtime.listByOwner({})) {
        const namespace = container.labels[RUNTIME_LABELS.namespace];
        const rc = container.labels[RUNTIME_LABELS.rc];
        if (namespace && rc) this.queues.replicationController(namespace, rc);
      }
      for (const service of await this.services.list()) this.queues.endpoints(service.metadata.namespace, service.metadata.name);
      for (const record of await this.endpoints.list()) this.queues.endpoints(record.metadata.namespace, record.metadata.name);
    } catch (error) {
      this.logger.warn({ msg: `resync failed: ${(error as Error).message}` });
    }
  }
}
