import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';

const SUBSCRIBE_RETRY_FIRST_MS = 1_000;
const SUBSCRIBE_RETRY_MAX_MS = 30_000;

/**
 * A source of the route table that listens for events and, to heal missed ones, re-lists
 * everything at start and every `resyncIntervalMs`. Subscribing comes first, so nothing
 * published between the subscription and the first list is lost. A subscription that
 * fails (JetStream unavailable) does not fail the start: the feed lists and resyncs
 * meanwhile and subscribes again in the background with backoff, re-listing once it has.
 */
export abstract class TableFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly feedLogger = new Logger(this.constructor.name);
  private resyncTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Whether the feed receives events. */
  subscribed = false;

  protected constructor(
    private readonly resyncIntervalMs: number,
    private readonly subscribeRetry = { firstMs: SUBSCRIBE_RETRY_FIRST_MS, maxMs: SUBSCRIBE_RETRY_MAX_MS },
  ) {}

  protected abstract subscribe(): Promise<void>;

  /** Re-lists from the source of truth; on failure the table keeps what it has. */
  abstract resync(): Promise<void>;

  async onApplicationBootstrap() {
    const subscribed = await this.trySubscribe(1);
    await this.resync();
    this.resyncTimer = setInterval(() => void this.resync(), this.resyncIntervalMs).unref();
    if (!subscribed) this.retrySubscribe(2);
  }

  onApplicationShutdown() {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
  }

  private async trySubscribe(attempt: number): Promise<boolean> {
    try {
      await this.subscribe();
      this.subscribed = true;
      if (attempt > 1) this.feedLogger.log({ msg: `subscribed after ${attempt} attempts` });
      return true;
    } catch (error) {
      this.feedLogger.warn({ msg: `cannot subscribe (attempt ${attempt}), retrying in the background: ${(error as Error).message}` });
      return false;
    }
  }

  private retrySubscribe(attempt: number) {
    const delayMs = Math.min(this.subscribeRetry.firstMs * 2 ** (attempt - 2), this.subscribeRetry.maxMs);
    this.retryTimer = setTimeout(async () => {
      if (this.stopped) return;
      // Events published while unsubscribed were missed: re-list once subscribed.
      if (await this.trySubscribe(attempt)) await this.resync();
      else if (!this.stopped) this.retrySubscribe(attempt + 1);
    }, delayMs);
    this.retryTimer.unref();
  }
}
