import type { Pod } from '@paas/contracts/deployments';
import type { EventEnvelope, EventType } from '@paas/contracts/events';
import { durableName } from '@paas/contracts/events';
import type { ResourceList } from '@paas/contracts/meta';
import type { RpcMethod, RpcRequest } from '@paas/contracts/rpc';
import { busNames } from '@paas/platform/bus-names';
import { EventBus, STREAM_ELECTION_MS } from '@paas/platform/events';
import { buildWebImage, eventually, isAlive, requestOn } from '@paas/platform/testing';
import { connect, type ConsumerInfo, type JetStreamManager, type NatsConnection } from 'nats';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { assertFree, PrivateCopy } from './support';

/**
 * The platform on a NATS cluster of three, as `npm run up -- --nats-cluster` runs it
 * (scripts/lib through up-steps.mjs, on ports of its own): the deploy-service connects to all
 * three, and its event stream is kept on all three (PAAS_STREAM_REPLICAS=3). The test then
 * makes one server the worst one to lose, the one the deploy-service is connected to and that
 * leads both the event stream and the test's own durable consumer, and kills it with SIGKILL
 * while a rollout is under way and an event is in a handler's hands. The rollout completes, a
 * later scale is answered over RPC and served, the event handled across the kill and one
 * published after it are each delivered once, and so is the deploy-service's own
 * `deployment.rolled`, which its outbox published while the stream elected a new leader.
 */
const OFFSET = 22_000;
const NATS = { NATS_PORT: 21_222, NATS_CLUSTER_PORT: 21_322, NATS_MONITOR_PORT: 21_422 };
const SERVERS = [1, 2, 3].map((i) => ({
  name: `nats-${i}`,
  url: `nats://127.0.0.1:${NATS.NATS_PORT + i - 1}`,
  monitor: NATS.NATS_MONITOR_PORT + i - 1,
}));
const TEST_SERVICE = 'cluster-test';
/** How long a consumer may take to elect a leader after its leader's server is killed. */
const ELECTION_WAIT_MS = 30_000;

const copy = new PrivateCopy('nats', {
  PAAS_PORT_OFFSET: String(OFFSET),
  ...Object.fromEntries(Object.entries(NATS).map(([name, port]) => [name, String(port)])),
});
const namespace = `cluster-${copy.busPrefix.slice(-8)}`;
const image = `paas-test/nats-cluster-${copy.busPrefix.slice(-8)}:v1`;
const stream = busNames(copy.busPrefix).stream;

let nats: NatsConnection;
let bus: EventBus;
const deliveries = new Map<string, { type: EventType; count: number }>();

const rpc = <M extends RpcMethod>(method: M, request: RpcRequest<M>) => requestOn(nats, copy.busPrefix, method, request);
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const containers = () => docker('ps', '-aq', '--filter', `label=paas.dev/namespace=${namespace}`).split('\n').filter(Boolean);
const readyPods = async () =>
  ((await rpc('pods.list', { namespace })) as ResourceList<Pod>).items.filter((pod) => pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));

/** The server (by name) that a connection called `name` is connected to, from each server's /connz. */
async function serverOf(name: string): Promise<string | undefined> {
  for (const server of SERVERS) {
    const connz = (await (await fetch(`http://127.0.0.1:${server.monitor}/connz?limit=1024`)).json()) as { connections?: { name?: string }[] };
    if (connz.connections?.some((connection) => connection.name === name)) return server.name;
  }
  return undefined;
}

/**
 * Moves the leader of a stream or consumer onto `server`: asks the leader to step down (the
 * others elect one of themselves) until the lot falls on `server`.
 */
async function leadOn(server: string, what: string, leader: () => Promise<string | undefined>, stepDown: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await eventually(`a leader of ${what}`, leader, 15_000, 100);
    if (current === server) return;
    await nats.request(stepDown, '', { timeout: 5_000 }).catch(() => undefined);
    await eventually(`${what} to elect a leader other than ${current}`, async () => ((await leader().catch(() => current)) !== current ? true : undefined), 15_000, 100);
  }
  throw new Error(`${what} is not led by ${server} after 20 step-downs`);
}

/**
 * A consumer's state, read from its leader: only the leader answers `CONSUMER.INFO`, and while
 * the survivors of a killed leader have not yet elected another (each group of the stream, and
 * each consumer, elects on its own raft timer, seconds apart) the request gets no answer at
 * all and times out, as the EventBus's own reopening does ("consuming … stopped: TIMEOUT").
 * A consumer left without a leader for good still fails the test, after `ELECTION_WAIT_MS`.
 */
async function electedConsumer(jsm: JetStreamManager, name: string): Promise<ConsumerInfo> {
  const asked = Date.now();
  const info = await eventually(`consumer ${name} to have a leader`, () => jsm.consumers.info(stream, name), ELECTION_WAIT_MS, 200);
  if (Date.now() - asked > 1_000) console.log(`consumer ${name} answered ${Date.now() - asked} ms after it was first asked (a leader election)`);
  return info;
}

function dcBody(replicas: number) {
  const probe = { httpGet: { path: '/', port: 8080 }, periodSeconds: 0.2, timeoutSeconds: 1, failureThreshold: 3 };
  const labels = { app: 'web', deploymentconfig: 'web' };
  return {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { deploymentconfig: 'web' },
      template: { metadata: { labels }, spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }], readinessProbe: probe }] } },
      triggers: [{ type: 'ConfigChange' }],
      strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 120 } },
    },
  };
}

beforeAll(async () => {
  await assertFree([...Object.values(NATS).flatMap((port) => [port, port + 1, port + 2]), 8020 + OFFSET]);
  await copy.upStep('start-nats', '3');
  buildWebImage(image, 'served through a NATS cluster');
  const deployEnv = { 'deploy-service': { DEPLOY_DRAIN_MS: '300', DEPLOY_GRACE_SECONDS: '1' } };
  await copy.upStep('start-services', JSON.stringify({ 'deploy-service': 1 }), JSON.stringify(deployEnv), '3');
  nats = await connect(copy.natsOptions(SERVERS.map((server) => server.url), TEST_SERVICE));
  await eventually('the deploy-service to answer on the cluster', async () => (await rpc('deploymentconfigs.list', { namespace })) && true, 60_000);
  // The test's own publisher and durable consumer, on the copy's bus.
  process.env.PAAS_BUS_PREFIX = copy.busPrefix;
  bus = new EventBus(nats, TEST_SERVICE);
}, 180_000);

afterAll(async () => {
  await rpc('deploymentconfigs.delete', { namespace, name: 'web' }).catch(() => undefined);
  await eventually('the test containers to be gone', async () => (containers().length === 0 ? true : undefined), 30_000).catch(() => undefined);
  await bus?.onApplicationShutdown();
  await copy.upStep('stop-services');
  if (containers().length) docker('rm', '-f', ...containers());
  if (docker('images', '-q', image)) docker('rmi', '-f', image);
  await nats?.close();
  await copy.upStep('stop-nats');
  await copy.remove(['paas_deploy'], { dropStream: false });
}, 120_000);

describe('the platform on a NATS cluster of three', () => {
  it('keeps the event stream on all three servers', async () => {
    const info = await (await nats.jetstreamManager()).streams.info(stream);
    expect(info.config.num_replicas).toBe(3);
    const servers = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((replica) => replica.name)];
    expect(servers.sort()).toEqual(SERVERS.map((server) => server.name));
  });

  it('completes a rollout, an RPC and event deliveries when the server the deploy-service is on, leading the stream, is killed', async () => {
    const jsm = await nats.jetstreamManager();
    let releaseHandler!: () => void;
    const killed = new Promise<void>((resolve) => (releaseHandler = resolve));
    let handling: () => void;
    const inHandler = new Promise<void>((resolve) => (handling = resolve));
    const record = async ({ id, type, subject }: EventEnvelope) => {
      const count = (deliveries.get(id)?.count ?? 0) + 1;
      deliveries.set(id, { type, count });
      if (subject === `${namespace}/before` && count === 1) {
        handling();
        await killed; // acked only after the kill, to whichever server then leads the consumer
      }
    };
    await bus.subscribe('route.changed', record);
    await bus.subscribe('deployment.rolled', record);

    const victim = (await serverOf('deploy-service')) as string;
    expect(SERVERS.map((server) => server.name)).toContain(victim);
    await leadOn(victim, 'the event stream', async () => (await jsm.streams.info(stream)).cluster?.leader, `$JS.API.STREAM.LEADER.STEPDOWN.${stream}`);
    const consumer = durableName(TEST_SERVICE, 'route.changed');
    await leadOn(victim, 'the test consumer', async () => (await jsm.consumers.info(stream, consumer)).cluster?.leader, `$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`);

    await rpc('services.create', { namespace, body: { metadata: { name: 'web' }, spec: { selector: { deploymentconfig: 'web' }, ports: [{ port: 8080, targetPort: 8080 }] } } });
    await rpc('deploymentconfigs.create', { namespace, body: dcBody(2) });
    const before = await bus.publish('route.changed', { namespace, name: 'before', generation: 1, deleted: false });
    await inHandler;

    const pid = copy.pid(victim);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await eventually(`${victim} to be gone`, async () => (isAlive(pid) ? undefined : true), 10_000, 50);
    releaseHandler();

    // Published after the kill: it waits while the stream elects a new leader.
    const since = <T>(work: Promise<T>) => work.then((value) => [value, Date.now() - killedAt] as const);
    const [[after, published], [, answered]] = await Promise.all([
      since(bus.publish('route.changed', { namespace, name: 'after', generation: 1, deleted: false }, { retryMs: STREAM_ELECTION_MS })),
      since(eventually('the deploy-service to answer a scale after the kill', () => rpc('deploymentconfigs.scale', { namespace, name: 'web', replicas: 3 }), 30_000, 100)),
    ]);
    await eventually('3 ready pods', async () => ((await readyPods()).length === 3 ? true : undefined), 60_000);
    await eventually('deployment.rolled of revision 1 to arrive', async () => ([...deliveries.values()].some((d) => d.type === 'deployment.rolled') ? true : undefined), 60_000);
    await eventually('the event published after the kill to arrive', async () => (deliveries.has(after.id) ? true : undefined), 30_000);
    console.log(`killed ${victim} (pid ${pid}); publish succeeded after ${published} ms, RPC answered after ${answered} ms, all delivered after ${Date.now() - killedAt} ms`);

    expect(deliveries.get(before.id)).toEqual({ type: 'route.changed', count: 1 });
    expect(deliveries.get(after.id)).toEqual({ type: 'route.changed', count: 1 });
    expect([...deliveries.values()].filter((d) => d.type === 'deployment.rolled')).toEqual([{ type: 'deployment.rolled', count: 1 }]);
    // Nothing is left to be delivered again: every delivery was acknowledged to the new leaders.
    for (const type of ['route.changed', 'deployment.rolled'] as const) {
      const info = await electedConsumer(jsm, durableName(TEST_SERVICE, type));
      expect({ type, pending: info.num_pending, unacked: info.num_ack_pending, redelivered: info.num_redelivered }).toEqual({ type, pending: 0, unacked: 0, redelivered: 0 });
    }
    expect((await jsm.streams.info(stream)).cluster?.leader).not.toBe(victim);
    expect(containers()).toHaveLength(3);
    expect(readFileSync(path.join(copy.home, 'logs', 'deploy-service-0.log'), 'utf8')).not.toContain('"level":"error"');
  });
});
