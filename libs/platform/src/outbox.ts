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

function isOutboxSource(value: unknown): value is OutboxSource {
  const candidate = value as Partial<OutboxSource> | undefined;
  return typeof candidate?.sweep === 'function' && typeof candidate.kind === 'string';
}

/**
 * The other half of every repository's outbox: at start and then every half minute, each
 * repository of the service (found by itself) publishes what its writes still owe the bus
 * (their writer died between the write and the publish, or NATS was down) and tidies its
 * old versions. With several replicas each sweeps; a repeated publish has the same id and
 * the bus drops it.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private timer?: NodeJS.Timeout;
  private sources: OutboxSource[] = [];

  constructor(@Inject(DiscoveryService) private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap() {
    this.sources = [...new Set(this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown).filter(isOutboxSource))];
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** Publishes what every resource owes; answers how many events went out. */
  async sweep(): Promise<number> {
    let published = 0;
    for (const source of this.sources) {
      try {
        published += await source.sweep();
      } catch (error) {
        this.logger.warn({ msg: `${source.kind} events not relayed, retrying in ${SWEEP_INTERVAL_MS / 1000} s: ${(error as Error).message}` });
      }
    }
    if (published) this.logger.log({ msg: `published ${published} event(s) that writes had left owing` });
    return published;
  }
}
