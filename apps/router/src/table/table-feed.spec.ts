import { setTimeout as sleep } from 'node:timers/promises';
import { TableFeed } from './table-feed';

/** A feed whose first `failures` subscriptions fail, as with JetStream unavailable. */
class FlakyFeed extends TableFeed {
  subscribeCalls = 0;
  resyncs = 0;

  constructor(private failures: number) {
    super(3_600_000, { firstMs: 5, maxMs: 20 });
  }

  protected async subscribe() {
    this.subscribeCalls++;
    if (this.failures-- > 0) throw new Error('jetstream not enabled');
  }

  async resync() {
    this.resyncs++;
  }
}

async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5);
  expect(check()).toBe(true);
}

describe('table feed', () => {
  it('starts without its subscription, lists at once and subscribes in the background, re-listing once it has', async () => {
    const feed = new FlakyFeed(3);
    await feed.onApplicationBootstrap();
    expect(feed.subscribed).toBe(false);
    expect(feed.resyncs).toBe(1);

    await until(() => feed.subscribed);
    expect(feed.subscribeCalls).toBe(4);
    expect(feed.resyncs).toBe(2);
    feed.onApplicationShutdown();
  });

  it('stops trying once shut down', async () => {
    const feed = new FlakyFeed(Infinity);
    await feed.onApplicationBootstrap();
    feed.onApplicationShutdown();
    const calls = feed.subscribeCalls;
    await sleep(50);
    expect(feed.subscribeCalls).toBe(calls);
  });
});
