import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { trafficRequest } from '@paas/contracts/routes';
import { processIdentity } from '@paas/platform/leases';
import { PresenceAnnouncer } from '@paas/platform/presence';
import { RpcServer } from '@paas/platform/rpc';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import type { NatsConnection } from 'nats';
import { ROUTER_SERVICE } from '../config';
import { RouterState } from '../table/router-state';

/**
 * This replica's part in a pod's drain (docs/architecture.md, "Drain"): it announces itself
 * (so the deploy-service knows whom to ask) and answers `router.traffic` for itself, from the
 * table it serves and the requests it has in flight, so an old pod is stopped only once every
 * router replica has let go of it.
 */
@Injectable()
export class TrafficReport implements OnModuleInit, OnApplicationShutdown {
  private readonly replica = processIdentity();
  private readonly presence: PresenceAnnouncer;

  constructor(
    private readonly rpc: RpcServer,
    private readonly state: RouterState,
    @Inject(NATS_CONNECTION) nats: NatsConnection,
  ) {
    this.presence = new PresenceAnnouncer(nats, ROUTER_SERVICE, this.replica);
  }

  onModuleInit() {
    this.rpc.handleEach('router.traffic', async (request) => {
      const checked = validate(trafficRequest, request, 'TrafficRequest');
      if (!checked.ok) throw new ApiError(checked.status);
      return { replica: this.replica, loaded: this.state.loaded, addresses: this.state.traffic(checked.value.addresses) };
    });
    this.presence.start();
  }

  onApplicationShutdown() {
    this.presence.stop();
  }
}
