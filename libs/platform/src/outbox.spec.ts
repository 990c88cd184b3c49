import { Logger } from '@nestjs/common';
import type { DiscoveryService } from '@nestjs/core';
import { OutboxRelay, SWEEP_INTERVAL_MS, type OutboxSource } from './outbox';
import type { ShardListener } from './shard-ownership';

/** A repository whose sweeps fail `failures` times (the bus refusing publishes), then publish one event. */
function flakySource(failures: number): OutboxSource & { sweeps: number[] } {
  const start = Date.now();
  const sweeps: number[] = [];
  return {
    kind: 'Pod',
    sweeps,
    sweep: async () => {
      sweeps.push(Date.now() - start);
      if (sweeps.length <= failures) throw new Error('no server stored pod.changed');
      return 1;
    },
  };
}

function relayOver(source: OutboxSource, ownership?: { listen(listener: ShardListener): void }): OutboxRelay {
  const discovery = { getProviders: () => [{ instance: source }] } as unknown as DiscoveryService;
  const relay = new OutboxRelay(discovery, ownership);
  relay.onApplicationBootstrap();
  return relay;
}

describe('OutboxRelay', () => {
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('sweeps again soon after a failed publish, backing off to 5 s while it fails, then only on its interval', async () => {
    const source = flakySource(5);
    const relay = relayOver(source);
    await jest.advanceTimersByTimeAsync(25_000);
    // At start, then 1, 2, 4, 5 and 5 s after each failure; the sixth sweep published what was owed.
    expect(source.sweeps).toEqual([0, 1_000, 3_000, 7_000, 12_000, 17_000]);
    await jest.advanceTimersByTimeAsync(SWEEP_INTERVAL_MS - 25_000);
    expect(source.sweeps).toEqual([0, 1_000, 3_000, 7_000, 12_000, 17_000, SWEEP_INTERVAL_MS]);
    relay.onApplicationShutdown();
  });

  it('starts from a short wait again after a sweep that published everything', async () => {
    const source = flakySource(1);
    const relay = relayOver(source);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(source.sweeps).toEqual([0, 1_000]);
    relay.retrySoon(); // a later publish failed
    await jest.advanceTimersByTimeAsync(1_000);
    expect(source.sweeps).toEqual([0, 1_000, 3_000]); // 1 s after it, not 2 s
    relay.onApplicationShutdown();
  });

  it('sweeps a second after shards are taken over (a peer died between a write and its publish), once for the lot', async () => {
    const source = flakySource(0);
    let listener: ShardListener | undefined;
    const relay = relayOver(source, { listen: (registered) => (listener = registered) });
    await jest.advanceTimersByTimeAsync(10_000);
    for (const shard of [3, 4, 5]) listener?.acquired(shard);
    await jest.advanceTimersByTimeAsync(999);
    expect(source.sweeps).toEqual([0]);
    await jest.advanceTimersByTimeAsync(1);
    expect(source.sweeps).toEqual([0, 11_000]);
    relay.onApplicationShutdown();
  });

  it('does not sweep again for the shards a replica takes as it starts: the start sweep covers them', async () => {
    const source = flakySource(0);
    const relay = relayOver(source, { listen: (registered) => [0, 1, 2].forEach((shard) => registered.acquired(shard)) });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(source.sweeps).toEqual([0]);
    relay.onApplicationShutdown();
  });

  it('does nothing once shut down', async () => {
    const source = flakySource(10);
    const relay = relayOver(source);
    relay.onApplicationShutdown();
    relay.retrySoon();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(source.sweeps).toEqual([0]);
  });
});
