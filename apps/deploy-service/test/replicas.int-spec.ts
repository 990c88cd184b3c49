import type { Pod } from '@paas/contracts/deployments';
import type { ResourceList } from '@paas/contracts/meta';
import type { RpcMethod, RpcRequest } from '@paas/contracts/rpc';
import { shardOf } from '@paas/platform/shard-ownership';
import { busNames } from '@paas/platform/bus-names';
import { eventually, requestOn, spawnService, subscribersOf } from '@paas/platform/testing';
import type { Connection } from 'mongoose';
import type { NatsConnection } from 'nats';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectToCopy, dropCopy } from './support/spawned-copy';
import { buildImage, dcBody, docker, SERVICE_BODY } from './support/test-image';

/**
 * Two deploy-service processes (the built main.js) on a bus and database of their own: each
 * key is worked by exactly one of them (never two containers for one pod, never more pods than
 * asked), and when the one working the test's namespace is killed with SIGKILL, the other takes
 * its shards over and goes on (a scale is served, every pod has its container).
 */
const REPO = path.resolve(__dirname, '../../..');
const MAIN = path.join(REPO, 'apps/deploy-service/dist/main.js');
const suffix = randomUUID().slice(0, 8);
const prefix = `test-deploy-replicas-${suffix}`;
const namespace = `replicas-${suffix}`;
const image = `paas-test/deploy-replicas-${suffix}:v1`;
const SHARDS = 16;
const logs = mkdtempSync(path.join(tmpdir(), 'paas-deploy-replicas-'));

interface Replica {
  name: string;
  process: ChildProcess;
}

let nats: NatsConnection;
let db: Connection;
const replicas: Replica[] = [];

function start(name: string, port: number): Replica {
  const env = { PAAS_BUS_PREFIX: prefix, PAAS_DB_PREFIX: prefix, PORT: String(port), PAAS_LEASE_RENEW_MS: '250', PAAS_LEASE_MS: '1500', DEPLOY_DRAIN_MS: '300', DEPLOY_GRACE_SECONDS: '1' };
  const replica = { name, process: spawnService(MAIN, env, path.join(logs, `${name}.log`)) };
  replicas.push(replica);
  return replica;
}

const rpc = <M extends RpcMethod>(method: M, request: RpcRequest<M>) => requestOn(nats, prefix, method, request);

/** The holder of each shard lease as stored: its newest term. */
async function shardHolders(): Promise<Map<number, string>> {
  const terms = await db.collection('leases').find({ name: /^shard:/ }).toArray();
  const newest = new Map<number, { term: number; holder: string; released?: boolean }>();
  for (const term of terms) {
    const shard = Number(String(term.name).slice('shard:'.length));
    if ((newest.get(shard)?.term ?? 0) < term.term) newest.set(shard, term as never);
  }
  return new Map([...newest].filter(([, term]) => !term.released).map(([shard, term]) => [shard, term.holder]));
}

const containersOf = () => docker('ps', '-a', '--filter', `label=paas.dev/namespace=${namespace}`, '--format', '{{.Label "paas.dev/pod"}}').split('\n').filter(Boolean);
const readyPods = async () => ((await rpc('pods.list', { namespace })) as ResourceList<Pod>).items.filter((pod) => pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));

beforeAll(async () => {
  buildImage(image, 'hello from a replica');
  ({ nats, db } = await connectToCopy(prefix));
  start('a', 18_620 + Math.floor(Math.random() * 200));
  start('b', 18_870 + Math.floor(Math.random() * 200));
  await eventually('both replicas to answer on the bus', async () => (await rpc('deploymentconfigs.list', { namespace })) && true, 60_000);
}, 120_000);

afterAll(async () => {
  await rpc('deploymentconfigs.delete', { namespace, name: 'web' }).catch(() => undefined);
  await eventually('the test containers to be gone', async () => (containersOf().length === 0 ? true : undefined), 30_000).catch(() => undefined);
  for (const { process: child } of replicas) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const leftovers = docker('ps', '-aq', '--filter', `label=paas.dev/namespace=${namespace}`).split('\n').filter(Boolean);
  if (leftovers.length) docker('rm', '-f', ...leftovers);
  docker('rmi', '-f', image);
  await dropCopy(prefix, { nats, db }, logs);
}, 60_000);

describe('deploy-service replicas', () => {
  it('split the shards between them, each held by one', async () => {
    const holders = await eventually('the shards to be split between both replicas', async () => {
      const current = await shardHolders();
      const counts = [...new Set(current.values())].map((holder) => [...current.values()].filter((h) => h === holder).length);
      return current.size === SHARDS && counts.length === 2 && counts.every((count) => count === SHARDS / 2) ? current : undefined;
    }, 30_000);
    expect(new Set(holders.values()).size).toBe(2);
  });

  it('run every pod once: never two containers for one pod, never more pods than asked', async () => {
    await rpc('services.create', { namespace, body: SERVICE_BODY });
    await rpc('deploymentconfigs.create', { namespace, body: dcBody(image, 4) });
    let worst = 0;
    const sample = setInterval(() => {
      const perPod = new Map<string, number>();
      for (const pod of containersOf()) perPod.set(pod, (perPod.get(pod) ?? 0) + 1);
      worst = Math.max(worst, ...perPod.values(), 0);
    }, 100);
    try {
      await eventually('4 ready pods', async () => ((await readyPods()).length === 4 ? true : undefined), 60_000);
    } finally {
      clearInterval(sample);
    }
    expect(worst).toBe(1);
    expect(containersOf()).toHaveLength(4);
    expect((await rpc('pods.list', { namespace })).items).toHaveLength(4);
  });

  it("goes on when the replica working the namespace is killed: the other takes its shards and serves a scale", async () => {
    const holder = (await shardHolders()).get(shardOf(namespace, SHARDS)) as string;
    const pid = Number(holder.split('/')[1]);
    const victim = replicas.find((replica) => replica.process.pid === pid);
    expect(victim).toBeDefined();
    // Gone for sure before the next request, from the bus too: one sent to a dead process is lost with it (the client sees a timeout).
    const exited = new Promise((resolve) => victim?.process.once('exit', resolve));
    victim?.process.kill('SIGKILL');
    await exited;
    const scale = busNames(prefix).rpc('deploymentconfigs.scale');
    await eventually('the bus to forget the killed replica', async () => ((await subscribersOf(scale)) === 1 ? true : undefined), 10_000);

    const survivor = replicas.find((replica) => replica !== victim) as Replica;
    // Unanswered (seen once in CI, not since): the failure says what the bus and the survivor showed then.
    await rpc('deploymentconfigs.scale', { namespace, name: 'web', replicas: 6 }).catch(async (error: Error) => {
      const log = readFileSync(path.join(logs, `${survivor.name}.log`), 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new Error(`${error.message}; subscribers of the scale now: ${await subscribersOf(scale)}; the survivor (pid ${survivor.process.pid}, exit ${survivor.process.exitCode ?? survivor.process.signalCode ?? 'none'}) logged last:\n${log}`);
    });
    await eventually('6 ready pods, served by the survivor', async () => ((await readyPods()).length === 6 ? true : undefined), 60_000);
    const perPod = new Map<string, number>();
    for (const pod of containersOf()) perPod.set(pod, (perPod.get(pod) ?? 0) + 1);
    expect([...perPod.values()]).toEqual([1, 1, 1, 1, 1, 1]);
    expect((await shardHolders()).get(shardOf(namespace, SHARDS))).toContain(`/${survivor.process.pid}/`);
    expect(readFileSync(path.join(logs, `${survivor.name}.log`), 'utf8')).not.toContain('"level":"error"');
  });
});
