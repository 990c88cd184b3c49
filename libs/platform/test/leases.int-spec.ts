import mongoose, { type Connection, type Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../src/config';
import { databaseName } from '../src/mongo';
import { Leases, leaseTermSchema, type LeaseTerm } from '../src/leases';
import { ShardOwnership } from '../src/shard-ownership';
import { eventually } from '../src/testing';

const TIMING = { renewMs: 100, leaseMs: 600 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('leases and shard ownership on the Mongo-compatible server', () => {
  let connection: Connection;
  let model: Model<LeaseTerm>;
  const started: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    connection = await mongoose.createConnection(loadConfig().mongoUrl, { dbName: databaseName(`paas_leases_test_${randomUUID().slice(0, 8)}`) }).asPromise();
    model = connection.model(`leases-${randomUUID().slice(0, 8)}`, leaseTermSchema());
  });
  afterAll(async () => {
    for (const leases of started) await leases.stop().catch(() => undefined);
    await connection.dropDatabase();
    await connection.close();
  });

  /** A replica's leases; `crash()` stops it without releasing anything, as kill -9 would. */
  function replica(name: string) {
    const leases = new Leases(model, `${name}-${randomUUID().slice(0, 4)}`, TIMING);
    const crash = () => (leases as unknown as { timer?: NodeJS.Timeout }).timer && clearInterval((leases as unknown as { timer: NodeJS.Timeout }).timer);
    started.push(leases);
    return { leases, crash };
  }

  it('lets one of several replicas take a free lease, and nobody else while it renews', async () => {
    const replicas = [1, 2, 3, 4, 5].map((i) => replica(`r${i}`).leases);
    for (const leases of replicas) await leases.start();
    const won = await Promise.all(replicas.map((leases) => leases.acquire('build:x')));
    expect(won.filter(Boolean)).toHaveLength(1);
    const holder = replicas[won.indexOf(true)];
    await sleep(TIMING.leaseMs * 2);
    expect(replicas.filter((leases) => leases.holds('build:x'))).toEqual([holder]);
    for (const leases of replicas.filter((l) => l !== holder)) {
      expect(leases.stateOf('build:x')).toBe('held');
      expect(await leases.acquire('build:x')).toBe(false);
    }
  });

  it('hands a lease whose holder died to another replica after the lease time, and the old holder stops trusting it', async () => {
    const first = replica('first');
    const second = replica('second');
    await first.leases.start();
    await second.leases.start();
    expect(await first.leases.acquire('build:y')).toBe(true);
    first.crash();
    const takenAt = await eventually('the second replica to take the lease', async () => ((await second.leases.acquire('build:y')) ? Date.now() : undefined), 5_000, 50);
    expect(first.leases.holds('build:y')).toBe(false);
    expect(second.leases.holds('build:y')).toBe(true);
    expect(takenAt).toBeGreaterThan(0);
  });

  it('releases on request: another replica takes it at once', async () => {
    const a = replica('a').leases;
    const b = replica('b').leases;
    await a.start();
    await b.start();
    expect(await a.acquire('build:z')).toBe(true);
    await a.release('build:z');
    await b.tick();
    expect(await b.acquire('build:z')).toBe(true);
  });

  it('splits shards fairly, never lets two replicas own one shard, and moves a dead replica shards to the survivor', async () => {
    const shardModel = connection.model(`shards-${randomUUID().slice(0, 8)}`, leaseTermSchema());
    const make = (name: string) => {
      const leases = new Leases(shardModel, `${name}-${randomUUID().slice(0, 4)}`, TIMING);
      started.push(leases);
      return { leases, ownership: new ShardOwnership(leases, 8) };
    };
    const a = make('a');
    const b = make('b');
    await a.leases.start();
    await a.ownership.start();
    expect(a.ownership.ownedShards()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await b.leases.start();
    await b.ownership.start();

    let overlaps = 0;
    const watch = setInterval(() => {
      const both = a.ownership.ownedShards().filter((shard) => b.ownership.owns(shard));
      if (both.length) overlaps++;
    }, 10);
    try {
      await eventually('a fair split', async () => (a.ownership.ownedShards().length === 4 && b.ownership.ownedShards().length === 4 ? true : undefined), 10_000, 50);
      // b dies without a word; a must own everything again once b's leases expire.
      clearInterval((b.leases as unknown as { timer: NodeJS.Timeout }).timer);
      await eventually('the survivor to own every shard', async () => (a.ownership.ownedShards().length === 8 ? true : undefined), 10_000, 50);
      expect(b.ownership.ownedShards()).toEqual([]);
    } finally {
      clearInterval(watch);
    }
    expect(overlaps).toBe(0);
  });
});
