import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { eventually } from '@paas/platform/testing';
import { api, AppRepository, builtImages, closeRouterConnections, containersOn, deleteNamespace, engineArgumentsFor, randomSuffix, removeBuiltImages, throughRouter } from './support';

/**
 * Pods on two nodes (the host's engine and `node-1`, which `npm test` brings up), under steady
 * traffic through the router that has reached both (each pod answers its name): a drained node's pods are replaced elsewhere before they stop,
 * and a node whose engine stops has its pods replaced on the other within seconds; neither
 * fails a request. When the engine is back, the node is Ready again and the containers it
 * still held for pods that moved away are removed. A build placed on node-1 runs, commits and
 * pushes there.
 */
const REPO_ROOT = path.resolve(__dirname, '../..');
const HOME = loadConfig().home;

interface NodeView {
  metadata: { name: string; annotations?: Record<string, string>; resourceVersion: string };
  spec: { unschedulable: boolean; engine: { url: string; tlsDir?: string } };
  status: { conditions: { type: string; status: string }[] };
}
interface PodView {
  metadata: { name: string };
  spec: { nodeName: string };
  status: { conditions: { type: string; status: string }[] };
}

/** The pid of every service replica (`.paas/run/<service>-<i>.pid`), by replica. */
function servicePids(): Record<string, number> {
  const run = path.join(HOME, 'run');
  const files = readdirSync(run).filter((file) => /^(api-gateway|build-service|deploy-service|registry-service|router)-\d+\.pid$/.test(file));
  return Object.fromEntries(files.map((file) => [file.slice(0, -'.pid'.length), Number(readFileSync(path.join(run, file), 'utf8'))]));
}

const ready = (conditions: { type: string; status: string }[]) => conditions.some((c) => c.type === 'Ready' && c.status === 'True');

describe('pods on several nodes', () => {
  const namespace = `e2e-nodes-${randomSuffix()}`;
  const repo = new AppRepository();
  const host = (app: string) => `${app}-${namespace}.apps.localhost`;

  const node = async (name: string): Promise<NodeView> => (await api().get(`/api/v1/nodes/${name}`).expect(200)).body;
  const podsOf = async (app: string): Promise<PodView[]> => (await api().get(`/api/v1/namespaces/${namespace}/pods`).query({ labelSelector: `deploymentconfig=${app}` })).body.items;
  const servingOn = (app: string, nodes: string[]) =>
    eventually(`the pods of ${app} to be ready on ${nodes.join(' and ')}`, async () => {
      const pods = await podsOf(app);
      const placed = pods.filter((pod) => ready(pod.status.conditions)).map((pod) => pod.spec.nodeName).sort();
      return pods.length === nodes.length && JSON.stringify(placed) === JSON.stringify([...nodes].sort()) ? pods : undefined;
    }, 60_000);

  /** Requests through the router until stopped: every answer that was not a 200, and the pods that answered (each serves its host name). */
  function steadyTraffic(app: string, clients = 4) {
    let stop = false;
    const failures: string[] = [];
    const answeredBy = new Set<string>();
    let answered = 0;
    const loops = Array.from({ length: clients }, async () => {
      while (!stop) {
        const outcome = await throughRouter(host(app)).catch((error: Error) => ({ status: 0, body: error.message }));
        answered++;
        if (outcome.status === 200) answeredBy.add(outcome.body);
        else failures.push(`${outcome.status} ${outcome.body.slice(0, 80)}`);
      }
    });
    return {
      /** Until each of `pods` has answered through the router: the router's table holds them all. */
      reaching: (pods: PodView[]) =>
        eventually(`requests to reach ${pods.map((pod) => pod.metadata.name).join(' and ')}`, async () => (pods.every((pod) => answeredBy.has(pod.metadata.name)) ? true : undefined), 30_000, 100),
      async end() {
        stop = true;
        await Promise.all(loops);
        return { answered, failures };
      },
    };
  }

  const engineOf = (view: NodeView) => engineArgumentsFor(view.spec.engine.url, view.spec.engine.tlsDir);

  beforeAll(async () => {
    const names = ((await api().get('/api/v1/nodes').expect(200)).body.items as NodeView[]).map((n) => n.metadata.name);
    if (!names.includes('node-1')) throw new Error(`these tests need the node node-1 (npm test brings the platform up with two nodes); registered: ${names.join(', ')}`);
    repo.commitServer('spread out');
    repo.commitFile('server.js', "require('node:http').createServer((req, res) => res.end(require('node:os').hostname())).listen(process.env.PORT || 8080);\n");
  });

  afterAll(async () => {
    await deleteNamespace(namespace);
    removeBuiltImages(namespace, ['built-1', 'drained-1', 'lost-1']);
    repo.remove();
    closeRouterConnections();
  });

  it('lists both nodes Ready, with their capacity', async () => {
    for (const name of ['local', 'node-1']) {
      const view = await node(name);
      expect(ready(view.status.conditions)).toBe(true);
      expect(view).toMatchObject({ metadata: { name }, status: { capacity: { memoryBytes: expect.any(Number), cpuMillis: expect.any(Number) } } });
    }
  });

  it('refuses a node whose engine does not answer, naming the field', async () => {
    const res = await api().post('/api/v1/nodes').send({ metadata: { name: 'nowhere' }, spec: { engine: { url: 'unix:///nonexistent.sock' }, hostIP: '127.0.0.1', registryHost: '127.0.0.1:5000' } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.details.causes)).toContain('spec.engine.url');
    expect((await api().get('/api/v1/nodes/nowhere')).status).toBe(404);
  });

  it("builds on node-1 while the host's engine is cordoned: the build says where it ran, and its image serves from node-1", async () => {
    const put = async (name: string, unschedulable: boolean) => {
      const current = await node(name);
      await api().put(`/api/v1/nodes/${name}`).send({ metadata: current.metadata, spec: { ...current.spec, unschedulable } }).expect(200);
    };
    await put('local', true);
    try {
      expect((await api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'built', source: { git: repo.dir, ref: 'main' }, builder: 'nodejs', replicas: 1 })).status).toBe(201);
      const build = await eventually('build built-1 to complete', async () => {
        const { body } = await api().get(`/api/v1/namespaces/${namespace}/builds/built-1`);
        if (['Failed', 'Error', 'Cancelled'].includes(body.status?.phase)) throw new Error(`built-1 ended ${body.status.phase}: ${body.status.message}`);
        return body.status?.phase === 'Complete' ? body : undefined;
      }, 120_000, 500);
      expect(build.status.nodeName).toBe('node-1');
      const log = await api().get(`/api/v1/namespaces/${namespace}/builds/built-1/log`).expect(200);
      expect(log.text).toContain('---> Building on node node-1 (tcp://');
      // The builder's layers are mounted from the registry, not uploaded from node-1 (the engine shows each by its diff id's first 12 digits).
      const builderLayers = JSON.parse(execFileSync('docker', [...engineOf(await node('node-1')), 'image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'paas-builder/nodejs:latest'], { encoding: 'utf8' })) as string[];
      for (const layer of builderLayers) expect(log.text).toMatch(new RegExp(`${layer.slice('sha256:'.length, 'sha256:'.length + 12)}: (Mounted from|Layer already exists)`));
      await servingOn('built', ['node-1']);
      expect((await throughRouter(host('built'))).status).toBe(200);
    } finally {
      await put('local', false);
    }
    // The image was committed on node-1's engine, not on the host's.
    const engine = engineOf(await node('node-1'));
    expect(builtImages(engine, namespace, 'built-1')).not.toEqual([]);
  });

  it('drains a node: its pods are replaced on the other before they stop, and no request fails', async () => {
    expect((await api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'drained', source: { git: repo.dir, ref: 'main' }, builder: 'nodejs', replicas: 2 })).status).toBe(201);
    const pods = await servingOn('drained', ['local', 'node-1']);
    const traffic = steadyTraffic('drained');
    try {
      await traffic.reaching(pods);
      await api().post('/api/v1/nodes/node-1/drain').expect(201);
      await servingOn('drained', ['local', 'local']);
    } finally {
      const { answered, failures } = await traffic.end();
      // Uncordoned, it takes pods again (the cases after this one need it, whatever happened here).
      const drained = await node('node-1');
      const { 'paas.dev/drain': _drain, ...annotations } = drained.metadata.annotations ?? {};
      await api().put('/api/v1/nodes/node-1').send({ metadata: { ...drained.metadata, annotations }, spec: { ...drained.spec, unschedulable: false } }).expect(200);
      expect(answered).toBeGreaterThan(0);
      expect(failures).toEqual([]);
    }
  });

  it("replaces the pods of a node whose engine stopped on the other node, fails no request, and cleans the node up when it is back", async () => {
    expect((await api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'lost', source: { git: repo.dir, ref: 'main' }, builder: 'nodejs', replicas: 2 })).status).toBe(201);
    const pods = await servingOn('lost', ['local', 'node-1']);
    const engine = engineOf(await node('node-1'));
    const traffic = steadyTraffic('lost');
    try {
      await traffic.reaching(pods);
      // The engine stops (as `systemctl stop docker` would): its containers stop with it.
      process.kill(Number(readFileSync(path.join(HOME, 'run', 'node-1.pid'), 'utf8')), 'SIGTERM');
      await eventually('node-1 to be NotReady', async () => (ready((await node('node-1')).status.conditions) ? undefined : true), 20_000, 250);
      await servingOn('lost', ['local', 'local']);
    } finally {
      const { answered, failures } = await traffic.end();
      expect(answered).toBeGreaterThan(0);
      expect(failures).toEqual([]);
    }

    // Back: `npm run up` starts what is not running, and leaves the services alone (they keep
    // their own bus keys, though this environment holds the operator's).
    const services = servicePids();
    execFileSync(process.execPath, ['scripts/up.mjs'], { cwd: REPO_ROOT, stdio: 'ignore', env: { ...process.env, PAAS_MIN_NODES: '2' } });
    expect(servicePids()).toEqual(services);
    await eventually('node-1 to be Ready again', async () => (ready((await node('node-1')).status.conditions) ? true : undefined), 60_000, 500);
    await eventually('the stale container on node-1 to be removed', async () => (containersOn(engine, namespace) === '' ? true : undefined), 60_000, 500);
  });
});
