import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { RouterTraffic, TrafficAddress } from '@paas/contracts/routes';
import { PresenceWatcher } from '@paas/platform/presence';
import { RpcClient } from '@paas/platform/rpc';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { NatsConnection } from 'nats';

export const ROUTER_DRAIN = Symbol('ROUTER_DRAIN');

/** For each address, whether the routers still send traffic there: why, in a sentence, or undefined once none does. */
export interface RouterDrain {
  holding(addresses: TrafficAddress[]): Promise<(string | undefined)[]>;
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

  async holding(addresses: TrafficAddress[]): Promise<(string | undefined)[]> {
    const live = this.routers.live();
    if (!live) return addresses.map(() => 'the router replicas are not known yet');
    if (!live.length) return addresses.map(() => undefined);
    const answers = await this.rpc.gather('router.traffic', { addresses }, { expected: live.length, timeoutMs: ANSWER_TIMEOUT_MS });
    return addresses.map((address) => stillHolding(live, answers, address));
  }
}

/** What in the answers of the router replicas (those alive, and any that answered) still holds `address`. */
export function stillHolding(live: readonly string[], answers: readonly RouterTraffic[], address: TrafficAddress): string | undefined {
  const byReplica = new Map(answers.map((answer) => [answer.replica, answer]));
  const reasons: string[] = [];
  for (const replica of new Set([...live, ...byReplica.keys()])) {
    const answer = byReplica.get(replica);
    if (!answer) reasons.push(`router ${replica} did not answer`);
    else if (!answer.loaded) reasons.push(`router ${replica} has not loaded its table yet`);
    const traffic = answer?.addresses.find((asked) => asked.ip === address.ip && asked.port === address.port);
    if (traffic?.routed) reasons.push(`router ${replica} still routes to it`);
    else if (traffic && traffic.inFlight > 0) reasons.push(`router ${replica} has ${traffic.inFlight} request(s) in flight to it`);
  }
  return reasons.length ? reasons.join('; ') : undefined;
}
