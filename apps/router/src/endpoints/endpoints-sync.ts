import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Endpoints } from '@paas/contracts/deployments';
import type { EventMap } from '@paas/contracts/events';
import { EventBus } from '@paas/platform/events';
import { RpcClient } from '@paas/platform/rpc';
import type { RouterConfig } from '../config';
import { ROUTER_CONFIG } from '../runtime.module';
import { RouterState, type EndpointsUpdate } from '../table/router-state';
import { TableFeed } from '../table/table-feed';

const LIST_TIMEOUT_MS = 5_000;

/**
 * Feeds this replica's table with the ready endpoints the deploy-service publishes: every
 * `endpoints.changed` (each replica gets its own copy; an update older than what is held
 * is dropped), plus a full `endpoints.list` at start and periodically to heal missed
 * events. When the deploy-service or NATS is unreachable the table keeps what it has.
 */
@Injectable()
export class EndpointsSync extends TableFeed {
  private readonly logger = new Logger(EndpointsSync.name);

  constructor(
    private readonly bus: EventBus,
    private readonly rpc: RpcClient,
    private readonly state: RouterState,
    @Inject(ROUTER_CONFIG) config: RouterConfig,
  ) {
    super(config.resyncIntervalMs);
  }

  protected async subscribe() {
    await this.bus.subscribe('endpoints.changed', async ({ data }) => void this.state.applyEndpoints(fromEvent(data)), { everyReplica: true, failFast: true });
  }

  async resync(): Promise<void> {
    const listedAt = Date.now();
    try {
      const list = await this.rpc.request('endpoints.list', {}, { timeoutMs: LIST_TIMEOUT_MS });
      this.state.resyncEndpoints(list.items.map(fromResource), listedAt);
    } catch (error) {
      this.logger.warn({ msg: `cannot list endpoints, serving the last known ones: ${(error as Error).message}` });
    }
  }
}

export function fromEvent(data: EventMap['endpoints.changed']): EndpointsUpdate {
  return { namespace: data.namespace, name: data.name, generation: data.generation, backends: data.addresses.map(({ ip, port }) => ({ ip, port })) };
}

export function fromResource(endpoints: Endpoints): EndpointsUpdate {
  const { namespace, name, generation } = endpoints.metadata;
  return { namespace, name, generation, backends: (endpoints.addresses ?? []).map(({ ip, port }) => ({ ip, port })) };
}
