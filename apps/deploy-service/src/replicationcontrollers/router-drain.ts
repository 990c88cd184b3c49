import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { RouterTraffic, TrafficAddress } from '@paas/contracts/routes';
import { PresenceWatcher } from '@paas/platform/presence';
import { RpcClient } from '@paas/platform/rpc';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { NatsConnection } from 'nats';

export const ROUTER_DRAIN = Symbol('ROUTER_DRAIN');

/** Whether the routers still send traffic to an address: why, in a sentence, or undefined once none does. */
export interface RouterDrain {
  holding(address: TrafficAddress): Promise<string | undefined>;
}

/** How long one question waits for the router replicas' answers. */
const ANSWER_TIMEOUT_MS = 500;

/**
 * Asks every router replica (counted by their presence) whether it still routes to a pod
 * being drained or has requests in flight to it (`router.traffic`, answered by each replica
 * from the table it applied): the proof a pod's container waits for before its SIGTERM,
 * rather than the stored Endpoints (docs/architecture.md, "Drain").
 */
@Injectable()
export class RouterTrafficDrain implements RouterDrain, OnModuleInit, OnApplicationShutdown {
  private readonly routers: PresenceWatcher;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_CONNECTION) nats: NatsConnection,
  ) {
    this.routers = new PresenceWatcher(nats, 'router');
  }

  onModuleInit() {
    this.routers.start();
  }

  onApplicationShutdown() {
    this.routers.stop();
  }

  async holding(address: TrafficAddress): Promise<string | undefined> {
    const live = this.routers.live();
    if (!live) return 'the router replicas are not known yet';
    if (!live.length) return undefined;
    const answers = await this.rpc.gather('router.traffic', { addresses: [address] }, { expected: live.length, timeoutMs: ANSWER_TIMEOUT_MS });
    return stillHolding(live, answers);
  }
}

/** What in the answers of the router replicas (those alive, and any that answered) still holds the address. */
export function stillHolding(live: readonly string[], answers: readonly RouterTraffic[]): string | undefined {
  const byReplica = new Map(answers.map((answer) => [answer.replica, answer]));
  const reasons: string[] = [];
  for (const replica of new Set([...live, ...byReplica.keys()])) {
    const answer = byReplica.get(replica);
    if (!answer) reasons.push(`router ${replica} did not answer`);
    else if (!answer.loaded) reasons.push(`router ${replica} has not loaded its table yet`);
    for (const address of answer?.addresses ?? []) {
      if (address.routed) reasons.push(`router ${replica} still routes to it`);
      else if (address.inFlight > 0) reasons.push(`router ${replica} has ${address.inFlight} request(s) in flight to it`);
    }
  }
  return reasons.length ? reasons.join('; ') : undefined;
}
