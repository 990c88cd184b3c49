import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { OutboxEvent } from './resource-repository';

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

/** How often stored resources are checked for events their write recorded but no publish sent. */
const SWEEP_INTERVAL_MS = 30_000;
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
 * The other half of every repository's outbox: at start, then every half minute, and soon
 * after a publish failed (1 s, doubling to 5 s while it fails), each repository of the service
 * (found by itself) publishes what its writes still owe the bus (their writer died between
 * the write and the publish, or NATS was down or electing a stream leader) and tidies its
 * old versions. With several replicas each sweeps; a repeated publish has the same id and
 * the bus drops it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private retryDelayMs = FIRST_RETRY_MS;
  private sources: OutboxSource[] = [];

  constructor(@Inject(DiscoveryService) private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap() {
    this.sources = [...new Set(this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown).filter(isOutboxSource))];
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    this.timer = this.retryTimer = undefined;
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
