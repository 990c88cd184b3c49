import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { OutboxEvent } from './resource-repository';
import { ShardOwnership } from './shard-ownership';

/** What an outbox hands its events to: the EventBus, wired by the MessagingModule. */
export interface OutboxPublisher {
  publish(event: OutboxEvent): Promise<void>;
}
export const OUTBOX_PUBLISHER = Symbol('OUTBOX_PUBLISHER');

/** What the relay needs of a repository (ResourceRepository has it): publish what is owed, answer how many. */
export interface OutboxSource {
  readonly kind: string;
  sweep(): Promise<number>;
}

/**
 * How often stored resources are checked, without a reason to, for events their write
 * recorded but no publish sent. A sweep reads every collection of the service whole (the
 * store cannot index what it looks for), in every replica, so its cost at rest grows with the
 * objects stored: it runs rarely, and at once when there is a reason (start, a failed
 * publish, a peer's shards taken over).
 */
export const SWEEP_INTERVAL_MS = 120_000;
/** After a shard is taken over, the wait that lets one sweep serve the whole takeover. */
const TAKEOVER_SWEEP_DELAY_MS = 1_000;
/**
 * After a publish failed, the first extra sweep; each failing one doubles the wait, up to the
 * last. A NATS cluster that lost the stream's leader refuses publishes for the ~5-10 s of its
 * election: the events owed then go out within seconds of its end, not up to half a minute later.
 */
const FIRST_RETRY_MS = 1_000;
const LAST_RETRY_MS = 5_000;

function isOutboxSource(value: unknown): value is OutboxSource {
  const candidate = value as Partial<OutboxSource> | undefined;
  return typeof candidate?.sweep === 'function' && typeof candidate.kind === 'string';
}

/**
 * The other half of every repository's outbox: at start, soon after a publish failed (1 s,
 * doubling to 5 s while it fails), a second after this replica took a shard over (in a
 * service with leases: a peer died or left, maybe between a write and its publish), and
 * every SWEEP_INTERVAL_MS, each repository of the service (found by itself) publishes what
 * its writes still owe the bus (their writer died between the write and the publish, or NATS
 * was down or electing a stream leader) and tidies its old versions. With several replicas
 * each sweeps; a repeated publish has the same id and the bus drops it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private takeoverTimer?: NodeJS.Timeout;
  /** Whether the start sweep is over: shards taken before it (this replica's first ones) need no sweep of their own. */
  private startSwept = false;
  private retryDelayMs = FIRST_RETRY_MS;
  private sources: OutboxSource[] = [];

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Optional() @Inject(ShardOwnership) private readonly ownership?: Pick<ShardOwnership, 'listen'>,
  ) {}

  onApplicationBootstrap() {
    this.sources = [...new Set(this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown).filter(isOutboxSource))];
    void this.sweep().then(() => (this.startSwept = true));
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
    this.ownership?.listen({ acquired: () => this.sweepAfterTakeover(), lost: () => undefined });
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.takeoverTimer);
    this.timer = this.retryTimer = this.takeoverTimer = undefined;
  }

  private sweepAfterTakeover(): void {
    if (!this.startSwept || this.takeoverTimer || !this.timer) return;
    this.takeoverTimer = setTimeout(() => {
      this.takeoverTimer = undefined;
      void this.sweep();
    }, TAKEOVER_SWEEP_DELAY_MS).unref();
  }

  /** A publish failed (the outbox publisher says so): sweep again soon, backing off while it fails. */
  retrySoon(): void {
    if (this.retryTimer || !this.timer) return;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(delay * 2, LAST_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.sweep();
    }, delay).unref();
  }

  /** Publishes what every resource owes; answers how many events went out. */
  async sweep(): Promise<number> {
    let published = 0;
    let failed = false;
    for (const source of this.sources) {
      try {
        published += await source.sweep();
      } catch (error) {
        failed = true;
        this.logger.warn({ msg: `${source.kind} events not relayed yet: ${(error as Error).message}` });
      }
    }
    if (published) this.logger.log({ msg: `published ${published} event(s) that writes had left owing` });
    if (failed) this.retrySoon();
    else this.retryDelayMs = FIRST_RETRY_MS;
    return published;
  }
}
