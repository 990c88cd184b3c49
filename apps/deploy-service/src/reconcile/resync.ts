import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DEPLOYMENT_LABELS } from '@paas/contracts/deployments';
import { ShardOwnership, shardOf } from '@paas/platform/shard-ownership';
import { RUNTIME_LABELS, type ContainerRuntime } from '../adapters/container-runtime';
import { CONTAINER_RUNTIME } from '../adapters/runtime.tokens';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { ReconcileQueues } from './reconcile-queues';

/**
 * Enqueues every key of a shard when this replica takes it (a new replica, or the shards of
 * one that died: it picks up where that one stopped), and every key it owns again every
 * `resyncMs` (minutes): changes drive the work, this only heals what no change reported, such
 * as a container removed behind the platform's back. Keys come from the informers, plus the
 * RCs named by containers whose records are gone (so their containers are removed).
 */
@Injectable()
export class Resync implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Resync.name);
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(ReconcileQueues) private readonly queues: ReconcileQueues,
    @Inject(DeployInformers) private readonly informers: DeployInformers,
    @Inject(ShardOwnership) private readonly ownership: ShardOwnership,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  onApplicationBootstrap() {
    this.ownership.listen({ acquired: (shard) => void this.resync((namespace) => shardOf(namespace, this.ownership.shards) === shard), lost: () => undefined });
    this.timer = setInterval(() => void this.resync(() => true), this.settings.resyncMs).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** Every key in the namespaces `inScope` accepts (the queues drop those of other replicas). */
  async resync(inScope: (namespace: string) => boolean): Promise<void> {
    const { dcs, rcs, services, endpoints } = this.informers;
    for (const dc of dcs.list()) if (inScope(dc.metadata.namespace)) this.queues.deploymentConfig(dc.metadata.namespace, dc.metadata.name);
    for (const rc of rcs.list()) {
      const { namespace, name, labels } = rc.metadata;
      if (!inScope(namespace)) continue;
      this.queues.replicationController(namespace, name);
      const dc = labels?.[DEPLOYMENT_LABELS.deploymentConfig];
      if (dc) this.queues.deploymentConfig(namespace, dc);
    }
    for (const record of [...services.list(), ...endpoints.list()]) if (inScope(record.metadata.namespace)) this.queues.endpoints(record.metadata.namespace, record.metadata.name);
    try {
      for (const container of await this.runtime.listByOwner({})) {
        const namespace = container.labels[RUNTIME_LABELS.namespace];
        const rc = container.labels[RUNTIME_LABELS.rc];
        if (namespace && rc && inScope(namespace)) this.queues.replicationController(namespace, rc);
      }
    } catch (error) {
      this.logger.warn({ msg: `containers not listed, their owners are reconciled at the next resync: ${(error as Error).message}` });
    }
  }
}
