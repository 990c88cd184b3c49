import { Logger } from '@nestjs/common';
import type { Leases } from './leases';
import type { ReconcileResult } from './work-queue';

export interface ShardListener {
  /** This replica now owns `shard`: list its keys and work them. */
  acquired(shard: number): void;
  /** This replica no longer owns `shard`; resolves once the work it was doing there has stopped. */
  lost(shard: number): Promise<void> | void;
}

/**
 * Where a namespace's keys stand with this replica: `owned` (work them), `claimed` (its shard
 * is this replica's but the lease cannot be trusted this moment, a renewal being slow: keep
 * the keys and try again soon, since no acquisition will list them again if the renewal
 * succeeds), or `elsewhere` (another replica's, or nobody's yet: the one that takes the shard
 * lists its keys).
 */
export type Standing = 'owned' | 'claimed' | 'elsewhere';

/** How soon a key of a claimed shard is looked at again. */
const CLAIMED_RETRY_MS = 500;

/** What a reconcile answers for a key it may not work now (claimed: again soon; elsewhere: dropped); undefined when owned. */
export function notWorkedHere(standing: Standing): ReconcileResult | undefined {
  if (standing === 'claimed') return { requeueAfterMs: CLAIMED_RETRY_MS };
  return standing === 'elsewhere' ? {} : undefined;
}

const SHARD_PREFIX = 'shard:';
const MEMBER_PREFIX = 'member:';

/** FNV-1a: a stable spread of namespaces over shards, the same in every replica. */
export function shardOf(namespace: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < namespace.length; i++) {
    hash ^= namespace.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * Which replica of a service works which keys. The keys' namespaces are spread over a fixed
 * number of shards (`shardOf`), each shard a lease (`shard:<i>`); every replica also holds a
 * lease of its own (`member:<identity>`) so that all of them know how many are alive. After
 * every lease tick a replica takes free shards up to its fair share (`ceil(shards / live
 * members)`) and gives up what it holds beyond it, once the work there has stopped; a
 * replica that dies loses its shards to the others when their leases expire. A namespace is
 * worked by one replica at a time, so a DeploymentConfig, its ReplicationControllers, their
 * pods and the Services selecting them are all reconciled in one process.
 */
export class ShardOwnership {
  private readonly logger = new Logger(ShardOwnership.name);
  private readonly owned = new Set<number>();
  private readonly listeners = new Set<ShardListener>();
  private readonly memberLease: string;
  private readonly lastSeenAlive = new Map<string, number>();

  constructor(
    private readonly leases: Leases,
    readonly shards: number,
  ) {
    this.memberLease = `${MEMBER_PREFIX}${leases.identity}`;
    leases.onTick(() => this.rebalance());
  }

  listen(listener: ShardListener): void {
    this.listeners.add(listener);
    for (const shard of this.owned) listener.acquired(shard);
  }

  /** Whether this replica may work keys of `namespace` now. */
  ownsNamespace(namespace: string): boolean {
    return this.owns(shardOf(namespace, this.shards));
  }

  standing(namespace: string): Standing {
    const shard = shardOf(namespace, this.shards);
    if (!this.owned.has(shard)) return 'elsewhere';
    return this.owns(shard) ? 'owned' : 'claimed';
  }

  owns(shard: number): boolean {
    return this.owned.has(shard) && this.leases.holds(`${SHARD_PREFIX}${shard}`);
  }

  ownedShards(): number[] {
    return [...this.owned].filter((shard) => this.owns(shard)).sort((a, b) => a - b);
  }

  /** Registers this replica and takes its first shards. */
  async start(): Promise<void> {
    await this.leases.acquire(this.memberLease);
    await this.rebalance();
  }

  /** Gives every shard up (shutdown): others take them at once. */
  async stop(): Promise<void> {
    for (const shard of [...this.owned]) await this.giveUp(shard);
  }

  private async rebalance(): Promise<void> {
    if (!this.leases.holds(this.memberLease)) await this.leases.acquire(this.memberLease);
    for (const shard of [...this.owned]) if (!this.leases.holds(`${SHARD_PREFIX}${shard}`)) await this.drop(shard);
    const members = this.leases.observed(MEMBER_PREFIX).filter((member) => member.state !== 'free').length || 1;
    const fair = Math.ceil(this.shards / members);
    for (let shard = this.shards - 1; shard >= 0 && this.owned.size > fair; shard--) if (this.owned.has(shard)) await this.giveUp(shard);
    for (let shard = 0; shard < this.shards && this.owned.size < fair; shard++) {
      if (this.owned.has(shard)) continue;
      if (await this.leases.acquire(`${SHARD_PREFIX}${shard}`)) {
        this.owned.add(shard);
        for (const listener of this.listeners) listener.acquired(shard);
      }
    }
    await this.forgetDeadMembers();
  }

  /** Stops the work of a shard, then releases its lease. */
  private async giveUp(shard: number): Promise<void> {
    await this.drop(shard);
    await this.leases.release(`${SHARD_PREFIX}${shard}`);
  }

  private async drop(shard: number): Promise<void> {
    if (!this.owned.delete(shard)) return;
    this.logger.log({ msg: `shard ${shard} no longer owned here` });
    for (const listener of this.listeners) await listener.lost(shard);
  }

  /** Members dead for long are removed, so that the table does not grow with every restart. */
  private async forgetDeadMembers(): Promise<void> {
    const at = performance.now();
    for (const member of this.leases.observed(MEMBER_PREFIX)) {
      if (member.state !== 'free') {
        this.lastSeenAlive.set(member.name, at);
        continue;
      }
      const since = this.lastSeenAlive.get(member.name) ?? at;
      this.lastSeenAlive.set(member.name, since);
      if (at - since > 10 * this.leases.timing.leaseMs) {
        await this.leases.release(member.name, { forget: true });
        this.lastSeenAlive.delete(member.name);
      }
    }
  }
}
