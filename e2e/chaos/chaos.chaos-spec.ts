import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose from 'mongoose';
import { loadConfig } from '@paas/platform/config';
import { databaseName } from '@paas/platform/mongo';
import { shardOf } from '@paas/platform/shard-ownership';
import { eventually } from '@paas/platform/testing';
import { api, AppRepository, deleteNamespace, randomSuffix, removeBuiltImages, ROUTER_URL } from '../src/support';

/**
 * The chaos suite (`npm run test:chaos`): with two replicas of every service and two nodes,
 * under steady traffic through the router to an app served on both nodes, each case breaks
 * one part while a new-app and a rollout are in flight: SIGKILL of one replica of each
 * service in turn (the one doing the work where that can be told), SIGKILL of NATS, a restart
 * of FerretDB, one node's engine stopped. Each case must end with both flows complete and
 * then: no failed request, every Build and ReplicationController version made once, one
 * container per pod, no container without its pod. `npm run up` heals what was killed.
 */
const REPO_ROOT = path.resolve(__dirname, '../..');
const HOME = loadConfig().home;
const SHARDS = 16;
const run = promisify(execFile);

interface PodView {
  metadata: { name: string; namespace: string };
  spec: { nodeName: string };
  status: { conditions: { type: string; status: string }[] };
}
interface NodeView {
  metadata: { name: string };
  spec: { engine: { url: string; tlsDir?: string } };
}

const isReady = (pod: PodView) => pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

/** An API call that is sent again when the connection failed (a gateway replica killed under it); HTTP errors are answers. */
async function call<T>(what: string, request: () => Promise<{ status: number; body: T }>): Promise<{ status: number; body: T }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= 20) throw new Error(`${what}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Each build of the app (phase, node, attempts, reason and message) and the last lines of the newest one's log. */
async function buildsSay(namespace: string, app: string): Promise<string> {
  try {
    const builds = (await api().get(`/api/v1/namespaces/${namespace}/builds`).query({ labelSelector: `buildconfig=${app}` })).body.items as {
      metadata: { name: string; annotations?: Record<string, string> };
      status: { phase: string; nodeName?: string; reason?: string; message?: string };
    }[];
    const lines = builds.map(({ metadata, status }) => `${metadata.name}: ${status.phase} on ${status.nodeName ?? '-'} ${JSON.stringify(metadata.annotations ?? {})} ${status.reason ?? ''} ${status.message ?? ''}`);
    const newest = builds.map((build) => build.metadata.name).sort((a, b) => Number(a.split('-').pop()) - Number(b.split('-').pop())).at(-1);
    const log = newest ? (await api().get(`/api/v1/namespaces/${namespace}/builds/${newest}/log`)).text : '';
    return `builds of ${namespace}/${app}:\n${lines.join('\n')}\nthe log of ${newest} ends:\n${log.split('\n').slice(-25).join('\n')}`;
  } catch (error) {
    return `the builds of ${namespace}/${app} could not be read: ${(error as Error).message}`;
  }
}

/**
 * GET through the router as an HTTP client does: a request whose connection broke before an
 * answer (a router replica killed with it) is sent once more on a new connection, as clients do
 * for an idempotent request on a reused connection (another pooled connection may have been
 * the killed replica's too). Answers the status and body, or status 0 with the error.
 */
function throughRouter(host: string, agent: http.Agent): Promise<{ status: number; body: string; retried: boolean }> {
  const once = (pooled: http.Agent | false) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get(`${ROUTER_URL}/`, { headers: { host }, agent: pooled, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    });
  return once(agent).then(
    (answer) => ({ ...answer, retried: false }),
    () => once(false).then((answer) => ({ ...answer, retried: true }), (error: Error) => ({ status: 0, body: error.message, retried: true })),
  );
}

/** Steady traffic from `clients` keep-alive clients until `end()`: what was answered, what failed, what needed a second try. */
function steadyTraffic(host: string, clients = 6) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  let stop = false;
  const failures: string[] = [];
  let answered = 0;
  let retried = 0;
  const bodies = new Set<string>();
  const loops = Array.from({ length: clients }, async () => {
    while (!stop) {
      const answer = await throughRouter(host, agent);
      answered++;
      if (answer.retried) retried++;
      if (answer.status === 200) bodies.add(answer.body);
      else failures.push(`${answer.status} ${answer.body.slice(0, 80)}`);
    }
  });
  return {
    async end() {
      stop = true;
      await Promise.all(loops);
      agent.destroy();
      return { answered, failures, retried, bodies };
    },
  };
}

function pidOf(name: string): number {
  return Number(readFileSync(path.join(HOME, 'run', `${name}.pid`), 'utf8'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function kill(pid: number, signal: NodeJS.Signals): Promise<void> {
  process.kill(pid, signal);
  await eventually(`process ${pid} to be gone`, async () => (alive(pid) ? undefined : true), 60_000, 100);
}

/** The pid of the replica of `service` that holds the shard of `namespace` (its lease), from the service's database. */
async function shardOwnerPid(database: string, namespace: string): Promise<number> {
  const connection = await mongoose.createConnection(loadConfig().mongoUrl, { dbName: databaseName(database) }).asPromise();
  try {
    const terms = await connection.collection('leases').find({ name: `shard:${shardOf(namespace, SHARDS)}` }).toArray();
    const newest = terms.sort((a, b) => b.term - a.term)[0];
    return Number(String(newest?.holder).split('/')[1]);
  } finally {
    await connection.close();
  }
}

/** `npm run up` as a user would run it after a failure: it starts what is not running, at the scale remembered. */
function heal(): void {
  try {
    execFileSync(process.execPath, ['scripts/up.mjs'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, PAAS_MIN_NODES: '2' } });
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}`.split('\n').filter((line) => /^[✓✗…!]/.test(line)).slice(-15).join('\n');
    throw new Error(`npm run up failed:\n${output}`);
  }
}

/** The docker CLI arguments that reach a node's engine. */
function engineArgs(node: NodeView): string[] {
  const { url, tlsDir } = node.spec.engine;
  if (url.startsWith('unix://')) return ['-H', url];
  return ['-H', url, '--tlsverify', `--tlscacert=${tlsDir}/ca.pem`, `--tlscert=${tlsDir}/cert.pem`, `--tlskey=${tlsDir}/key.pem`];
}

/** Every pod container of `namespaces` on every node: `<node> <namespace>/<pod>` once per container. */
async function containers(nodes: NodeView[], namespaces: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const node of nodes) {
    const { stdout } = await run('docker', [...engineArgs(node), 'ps', '-a', '--filter', 'label=paas.dev/managed-by=deploy-service', '--format', '{{.Label "paas.dev/namespace"}}/{{.Label "paas.dev/pod"}}']).catch(() => ({ stdout: '' }));
    for (const line of stdout.split('\n').filter(Boolean)) if (namespaces.includes(line.split('/')[0])) found.push(`${node.metadata.name} ${line}`);
  }
  return found;
}

interface Case {
  name: string;
  /** Breaks the part, while the flows are in flight. */
  disrupt(namespace: string): Promise<void>;
  /** Whether the flows must complete before `npm run up` heals (the survivors carry on), or only after. */
  healFirst: boolean;
}

const replicaOf = (service: string, which: 0 | 1) => pidOf(`${service}-${which}`);

const CASES: Case[] = [
  { name: 'kill -9 an api-gateway replica', healFirst: false, disrupt: () => kill(replicaOf('api-gateway', 0), 'SIGKILL') },
  { name: 'kill -9 a registry-service replica', healFirst: false, disrupt: () => kill(replicaOf('registry-service', 1), 'SIGKILL') },
  {
    name: 'kill -9 the build-service replica running the build',
    healFirst: false,
    disrupt: async (namespace) => kill(await shardOwnerPid('paas_build', namespace), 'SIGKILL'),
  },
  {
    name: 'kill -9 the deploy-service replica working the namespace',
    healFirst: false,
    disrupt: async (namespace) => kill(await shardOwnerPid('paas_deploy', namespace), 'SIGKILL'),
  },
  { name: 'kill -9 a router replica', healFirst: false, disrupt: () => kill(replicaOf('router', 0), 'SIGKILL') },
  { name: 'kill -9 NATS', healFirst: true, disrupt: () => kill(pidOf('nats'), 'SIGKILL') },
  { name: 'restart FerretDB', healFirst: true, disrupt: () => kill(pidOf('ferretdb'), 'SIGTERM') },
  { name: "stop node-1's engine", healFirst: false, disrupt: () => kill(pidOf('node-1'), 'SIGTERM') },
];

describe('chaos: every part fails once while apps are built, rolled out and served', () => {
  const suffix = randomSuffix();
  const served = `chaos-${suffix}`;
  const serving = new AppRepository();
  const fresh = new AppRepository();
  const namespaces = [served];
  const host = (app: string, namespace: string) => `${app}-${namespace}.apps.localhost`;
  let version = 1;
  let nodes: NodeView[];

  const podsOf = async (namespace: string, app: string): Promise<PodView[]> =>
    (await call('pods', async () => api().get(`/api/v1/namespaces/${namespace}/pods`).query({ labelSelector: `deploymentconfig=${app}` }))).body.items;
  // A flow that does not complete fails with what its builds say (the namespaces, and so their records and logs, go with the suite).
  const serves = (namespace: string, app: string, text: string) =>
    eventually(`${app} in ${namespace} to serve "${text}"`, async () => {
      const answer = await throughRouter(host(app, namespace), new http.Agent());
      return answer.status === 200 && answer.body === text ? true : undefined;
    }, 240_000, 250).catch(async (error: Error) => Promise.reject(new Error(`${error.message}\n${await buildsSay(namespace, app)}`)));

  beforeAll(async () => {
    if (!existsSync(path.join(HOME, 'run', 'api-gateway-1.pid'))) throw new Error('the chaos suite needs two replicas of every service and two nodes: npm run test:chaos brings the platform up so');
    nodes = (await api().get('/api/v1/nodes').expect(200)).body.items;
    if (!nodes.some((node) => node.metadata.name === 'node-1')) throw new Error('the chaos suite needs the node node-1 (npm run test:chaos brings it up)');
    serving.commitServer(`v${version}`);
    expect((await api().post(`/api/v1/namespaces/${served}/apps`).send({ name: 'steady', source: { git: serving.dir, ref: 'main' }, builder: 'nodejs', replicas: 2 })).status).toBe(201);
    // Every build of the suite kept (not the newest 5 only), so that each case can count one build per version.
    const bc = (await api().get(`/api/v1/namespaces/${served}/buildconfigs/steady`)).body;
    const keepAll = { ...bc.spec, successfulBuildsHistoryLimit: 100, failedBuildsHistoryLimit: 100 };
    // Unconditional (no resourceVersion): the first build's start may have changed the status meanwhile.
    const { resourceVersion: _unconditional, ...metadata } = bc.metadata;
    expect((await api().put(`/api/v1/namespaces/${served}/buildconfigs/steady`).send({ ...bc, metadata, spec: keepAll })).status).toBe(200);
    await serves(served, 'steady', `v${version}`);
    await eventually('the steady app to be ready on both nodes', async () => {
      const placed = (await podsOf(served, 'steady')).filter(isReady).map((pod) => pod.spec.nodeName);
      return new Set(placed).size === 2 ? true : undefined;
    }, 120_000);
  }, 600_000);

  afterAll(async () => {
    heal();
    for (const namespace of namespaces) await deleteNamespace(namespace).catch(() => undefined);
    for (const namespace of namespaces) removeBuiltImages(namespace, [...Array(12).keys()].flatMap((i) => [`steady-${i + 1}`, `fresh-${i + 1}`]));
    serving.remove();
    fresh.remove();
  }, 600_000);

  it.each(CASES.map((chaos) => [chaos.name, chaos] as const))('%s', async (_name, chaos) => {
    const namespace = `chaos-${suffix}-${CASES.indexOf(chaos)}`;
    namespaces.push(namespace);
    fresh.commitServer(`fresh ${namespace}`);
    serving.commitServer(`v${++version}`);
    const traffic = steadyTraffic(host('steady', served));
    let outcome: Awaited<ReturnType<typeof traffic.end>>;
    try {
      // In flight: a new app in a namespace of its own, and a rollout of the app under traffic.
      expect((await call('new-app', async () => api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'fresh', source: { git: fresh.dir, ref: 'main' }, builder: 'nodejs' }))).status).toBe(201);
      expect((await call('instantiate', async () => api().post(`/api/v1/namespaces/${served}/buildconfigs/steady/instantiate`).send({}))).status).toBe(201);
      await eventually('the new app to be building', async () => {
        const build = await call('build', async () => api().get(`/api/v1/namespaces/${namespace}/builds/fresh-1`));
        return build.status === 200 && build.body.status.phase !== 'New' ? true : undefined;
      }, 60_000, 100);

      await chaos.disrupt(chaos.name.includes('deploy-service') || chaos.name.includes('build-service') ? namespace : served);
      if (chaos.healFirst) heal();
      await serves(namespace, 'fresh', `fresh ${namespace}`);
      await serves(served, 'steady', `v${version}`);
      await eventually('the steady app to run its replicas again', async () => ((await podsOf(served, 'steady')).filter(isReady).length === 2 ? true : undefined), 120_000);
    } finally {
      outcome = await traffic.end();
    }
    if (!chaos.healFirst) heal();
    process.stdout.write(`chaos | ${chaos.name} | ${outcome.answered} requests | ${outcome.retried} sent twice | ${outcome.failures.length} failed\n`);

    // Nothing failed: every request to the served app was answered 200, before or after the change.
    expect(outcome.failures).toEqual([]);
    expect(outcome.answered).toBeGreaterThan(0);
    // Made once: one build per version, one RC per revision.
    for (const [ns, app] of [[namespace, 'fresh'], [served, 'steady']]) {
      const listBuilds = async () => (await api().get(`/api/v1/namespaces/${ns}/builds`).query({ labelSelector: `buildconfig=${app}` })).body.items as { metadata: { name: string }; status: { phase: string } }[];
      // A build's image can be served before its Complete is written: that write waits out the database's restart with the rest.
      const builds = await eventually(`a build of ${app} to be recorded Complete`, async () => {
        const listed = await listBuilds();
        return listed.some((build) => build.status.phase === 'Complete') ? listed : undefined;
      }, 60_000);
      const bc = (await api().get(`/api/v1/namespaces/${ns}/buildconfigs/${app}`)).body;
      expect(builds).toHaveLength(bc.status.lastVersion);
      const rcs = (await api().get(`/api/v1/namespaces/${ns}/replicationcontrollers`).query({ labelSelector: `deploymentconfig=${app}` })).body.items as { metadata: { name: string } }[];
      const dc = (await api().get(`/api/v1/namespaces/${ns}/deploymentconfigs/${app}`)).body;
      expect(rcs.map((rc) => rc.metadata.name).sort()).toEqual(Array.from({ length: dc.status.latestVersion }, (_, i) => `${app}-${i + 1}`).sort());
    }
    // One container per pod, and none without its pod (once the removals of old revisions are done).
    await eventually('every container to belong to a pod, one each', async () => {
      const pods = [...(await podsOf(namespace, 'fresh')), ...(await podsOf(served, 'steady'))].map((pod) => `${pod.spec.nodeName} ${pod.metadata.namespace}/${pod.metadata.name}`);
      const found = await containers(nodes, [namespace, served]);
      return JSON.stringify([...found].sort()) === JSON.stringify([...pods].sort()) ? true : undefined;
    }, 120_000, 500);
  }, 900_000);
});
