import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

/**
 * A source of the route table that listens for events and, to heal missed ones, re-lists
 * everything at start and every `resyncIntervalMs`. Subscribing comes first, so nothing
 * published between the subscription and the first list is lost.
 */
export abstract class TableFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  protected constructor(private readonly resyncIntervalMs: number) {}

  protected abstract subscribe(): Promise<void>;

  /** Re-lists from the source of truth; on failure the table keeps what it has. */
  abstract resync(): Promise<void>;

  async onApplicationBootstrap() {
    await this.subscribe();
    await this.resync();
    this.timer = setInterval(() => void this.resync(), this.resyncIntervalMs).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }
}
