import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Build } from '@paas/contracts/builds';
import { successStatus } from '@paas/contracts/status';
import { InMemoryFeed, InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import type { LeaseState, Leases } from '@paas/platform/leases';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import type { ShardOwnership } from '@paas/platform/shard-ownership';
import { BuildLogFiles } from '../adapters/build-log-files';
import type { BuildSettings } from '../build-settings';
import { aNode, FakeBuildNodes } from '../testing/fake-nodes';
import { ATTEMPT_ANNOTATION } from './build-attempts';
import { BuildController, RUNNER_ANNOTATION, WAITING_FOR_NODE_ANNOTATION } from './build-controller';
import type { BuildRepository } from './build.repository';
import type { ContainerRuntime } from './pipeline/container-runtime';
import type { RunBuild } from './run-build.usecase';

/** Leases as the controller sees them: which it may take, and what it observes of others. */
class ScriptedLeases {
  readonly identity = 'host/1/me';
  readonly timing = { renewMs: 100, leaseMs: 800 };
  readonly held = new Set<string>();
  readonly states = new Map<string, LeaseState>();
  async acquire(name: string) {
    if (this.states.get(name) === 'held') return false;
    this.held.add(name);
    return true;
  }
  async release(name: string) {
    this.held.delete(name);
  }
  stateOf(name: string): LeaseState {
    return this.held.has(name) ? 'mine' : (this.states.get(name) ?? 'free');
  }
}

/** Runs nothing: remembers what it was asked to run, and finishes it when told. */
class ScriptedRuns {
  readonly started: string[] = [];
  private readonly finishers = new Map<string, () => void>();
  get active() {
    return this.finishers.size;
  }
  isRunning(namespace: string, name: string) {
    return this.finishers.has(`${namespace}/${name}`);
  }
  abort = jest.fn();
  cancel = jest.fn((namespace: string, name: string) => this.isRunning(namespace, name));
  run(build: Build) {
    const key = `${build.metadata.namespace}/${build.metadata.name}`;
    this.started.push(key);
    return new Promise<undefined>((resolve) => this.finishers.set(key, () => (this.finishers.delete(key), resolve(undefined))));
  }
  finish(key: string) {
    this.finishers.get(key)?.();
  }
}

function aBuild(name: string, phase: Build['status']['phase'], annotations: Record<string, string> = {}, nodeName?: string): Build {
  return {
    apiVersion: 'v1',
    kind: 'Build',
    metadata: { name, namespace: 'demo', uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2030-01-01T00:00:00Z', labels: { buildconfig: 'app' }, annotations },
    // Parallel: the slot and node tests below are not ordered by runPolicy (its own tests set it).
    spec: { runPolicy: 'Parallel' } as Build['spec'],
    status: { phase, stages: [], outputDockerImageReference: 'reg.test:5000/demo/app:latest', ...(nodeName ? { nodeName } : {}) },
  };
}

const GIB = 1024 ** 3;

describe('BuildController', () => {
  let dir: string;
  let controller: BuildController;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'build-controller-spec-'))));
  afterEach(() => {
    controller?.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function setup(builds: Build[], options: { concurrency?: number; nodes?: ReturnType<typeof aNode>[]; nodeWaitMs?: number } = {}) {
    const feed = new InMemoryFeed();
    const published: OutboxEvent[] = [];
    const store = new InMemoryResourceRepository<Build>('Build', { feed, publisher: { publish: async (event) => void published.push(event) } });
    builds.forEach((build) => store.seed(build));
    const leases = new ScriptedLeases();
    const runs = new ScriptedRuns();
    const removed: string[] = [];
    const nodeList = options.nodes ?? [aNode('local')];
    const runtimeOf = (node: string) => ({ remove: async (name: string) => void removed.push(node === 'local' ? name : `${node}:${name}`) }) as unknown as ContainerRuntime;
    const nodes = new FakeBuildNodes(nodeList, Object.fromEntries(nodeList.map((node) => [node.metadata.name, runtimeOf(node.metadata.name)])));
    const ownership = { shards: 16, ownsNamespace: () => true, standing: () => 'owned', listen: () => undefined } as unknown as ShardOwnership;
    const logs = new BuildLogFiles(dir);
    const settings = { concurrency: options.concurrency ?? 4, resyncMs: 60_000, nodeWaitMs: options.nodeWaitMs ?? 600_000, containerLimits: { memoryBytes: 2 * GIB, pidsLimit: 1024 } } as BuildSettings;
    const pruned: string[] = [];
    const released: string[] = [];
    const deleteBuild = {
      execute: async (namespace: string, name: string) => (pruned.push(name), await store.delete(namespace, name), successStatus('deleted')),
      releaseUpload: async (build: Build) => void released.push(build.metadata.uid),
    };
    controller = new BuildController(store as unknown as BuildRepository, feed as never, ownership, leases as unknown as Leases, runs as unknown as RunBuild, nodes, logs, settings, deleteBuild);
    // Its informer, but not the work queue it feeds: the test reconciles by hand, one key at a time.
    await controller.builds.start();
    const get = (name: string) => store.get('demo', name);
    return { store, leases, runs, removed, published, logs, get, nodes, pruned, released };
  }

  it('claims a New build with its runner lease, records Pending with the runner, and runs it', async () => {
    const { leases, runs, get } = await setup([aBuild('app-1', 'New')]);
    expect(await controller.reconcile('demo/app-1')).toEqual({});
    expect(leases.held).toEqual(new Set(['build:uid-app-1']));
    expect(await get('app-1')).toMatchObject({ status: { phase: 'Pending' }, metadata: { annotations: { [RUNNER_ANNOTATION]: 'host/1/me' } } });
    expect(runs.started).toEqual(['demo/app-1']);
    // A second look while it runs here does nothing.
    expect(await controller.reconcile('demo/app-1')).toEqual({});
    expect(runs.started).toEqual(['demo/app-1']);
    runs.finish('demo/app-1');
    await new Promise((resolve) => setImmediate(resolve));
    expect(leases.held.size).toBe(0);
  });

  it("lets an ended Binary build's upload go once, not at every resync; a build made again under its name is new", async () => {
    const binary = (uid: string) => {
      const build = aBuild('app-1', 'Complete');
      return { ...build, metadata: { ...build.metadata, uid }, spec: { ...build.spec, binary: { object: `object-${uid}`, bytes: 10, sha256: 'a'.repeat(64) } } };
    };
    const { store, released } = await setup([binary('uid-1'), aBuild('git-1', 'Complete')]);
    await controller.reconcile('demo/app-1');
    await controller.reconcile('demo/app-1');
    await controller.reconcile('demo/git-1');
    expect(released).toEqual(['uid-1']);
    await store.delete('demo', 'app-1');
    await controller.reconcile('demo/app-1');
    store.seed(binary('uid-2'));
    await controller.reconcile('demo/app-1');
    expect(released).toEqual(['uid-1', 'uid-2']);
  });

  it('leaves a New build waiting, saying why, while this replica runs as many builds as it may', async () => {
    const { runs, get } = await setup([aBuild('app-1', 'New'), aBuild('app-2', 'New')], { concurrency: 1 });
    await controller.reconcile('demo/app-1');
    expect(await controller.reconcile('demo/app-2')).toEqual({ requeueAfterMs: 1_000 });
    expect((await get('app-2')).status).toMatchObject({ phase: 'New', message: 'waiting for a free build slot (each build-service replica runs 1 builds at once, BUILD_CONCURRENCY)' });
    expect(runs.started).toEqual(['demo/app-1']);
  });

  it('leaves a build in flight alone while its runner renews its lease elsewhere', async () => {
    const { leases, runs, get } = await setup([aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/other' })]);
    leases.states.set('build:uid-app-1', 'held');
    expect(await controller.reconcile('demo/app-1')).toEqual({ requeueAfterMs: 800 });
    expect((await get('app-1')).status.phase).toBe('Running');
    expect(runs.started).toEqual([]);
  });

  it('runs a build again once when its runner died (its lease expired), removing the old container first', async () => {
    const { removed, get, logs } = await setup([aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/dead' })]);
    expect(await controller.reconcile('demo/app-1')).toEqual({});
    const again = await get('app-1');
    expect(again.status).toMatchObject({ phase: 'New', stages: [], message: expect.stringContaining('attempt 2') });
    expect(again.metadata.annotations?.[ATTEMPT_ANNOTATION]).toBe('2');
    expect(removed).toEqual(['paas-build-demo.app-1']);
    expect((await logs.read('demo', 'app-1', 0)).text).toContain('(host/2/dead) stopped before the build finished; running the build again (attempt 2 of 2)');
  });

  it('ends a build as Error when the runner of its last attempt died too, and says so on the bus', async () => {
    const { get, published } = await setup([aBuild('app-1', 'Pending', { [RUNNER_ANNOTATION]: 'host/3/dead', [ATTEMPT_ANNOTATION]: '2' })]);
    await controller.reconcile('demo/app-1');
    expect((await get('app-1')).status).toMatchObject({ phase: 'Error', reason: 'BuildPodDeleted', message: expect.stringContaining('attempt 2') });
    expect(published).toEqual([expect.objectContaining({ type: 'build.failed', data: expect.objectContaining({ reason: 'BuildPodDeleted' }) })]);
  });

  it('places a claimed build on the node with the fewest builds in flight, and records it', async () => {
    const { get, runs } = await setup([aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/other' }, 'local'), aBuild('app-2', 'New')], { nodes: [aNode('local'), aNode('node-1')] });
    await controller.reconcile('demo/app-2');
    expect((await get('app-2')).status).toMatchObject({ phase: 'Pending', nodeName: 'node-1' });
    expect(runs.started).toEqual(['demo/app-2']);
  });

  it('keeps a build New, saying why, while no node can take it, and claims it once one can', async () => {
    const { get, runs, leases, nodes } = await setup([aBuild('app-1', 'New')], { nodes: [aNode('local', { ready: false }), aNode('node-1', { unschedulable: true })] });
    expect(await controller.reconcile('demo/app-1')).toEqual({ requeueAfterMs: 5_000 });
    const waiting = await get('app-1');
    expect(waiting.status).toMatchObject({ phase: 'New', message: 'waiting for a node to run on: every Ready node is cordoned or draining' });
    expect(Date.parse(waiting.metadata.annotations?.[WAITING_FOR_NODE_ANNOTATION] ?? '')).toBeGreaterThan(0);
    expect(leases.held.size).toBe(0);
    expect(runs.started).toEqual([]);
    // Looking again writes nothing new.
    await controller.reconcile('demo/app-1');
    expect((await get('app-1')).metadata.resourceVersion).toBe(waiting.metadata.resourceVersion);

    nodes.set(aNode('local'));
    await controller.reconcile('demo/app-1');
    const claimed = await get('app-1');
    expect(claimed.status).toMatchObject({ phase: 'Pending', nodeName: 'local' });
    expect(claimed.status.message).toBeUndefined();
    expect(claimed.metadata.annotations?.[WAITING_FOR_NODE_ANNOTATION]).toBeUndefined();
    expect(runs.started).toEqual(['demo/app-1']);
  });

  it('fails a build that waited for a node longer than it may, as NoNodeAvailable, on the bus and in its log', async () => {
    const since = new Date(Date.now() - 61_000).toISOString();
    const { get, published, logs } = await setup([aBuild('app-1', 'New', { [WAITING_FOR_NODE_ANNOTATION]: since })], { nodes: [], nodeWaitMs: 60_000 });
    expect(await controller.reconcile('demo/app-1')).toEqual({});
    expect((await get('app-1')).status).toMatchObject({ phase: 'Failed', reason: 'NoNodeAvailable', message: 'no node could run the build within 60 s: no node is registered' });
    expect(published).toEqual([expect.objectContaining({ type: 'build.failed', data: expect.objectContaining({ reason: 'NoNodeAvailable' }) })]);
    expect((await logs.read('demo', 'app-1', 0)).text).toContain('error: build error: no node could run the build within 60 s');
  });

  it("keeps a build New while the builds in flight hold its node's memory, past the wait for a node, and claims it once one is over", async () => {
    const longAgo = new Date(Date.now() - 3_600_000).toISOString();
    const inFlight = [aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/other' }, 'local'), aBuild('app-2', 'Pending', { [RUNNER_ANNOTATION]: 'host/2/other' }, 'local')];
    // It once waited for a node, long ago: room is another matter, and has no deadline.
    const { get, runs, store, published } = await setup([...inFlight, aBuild('app-3', 'New', { [WAITING_FOR_NODE_ANNOTATION]: longAgo })], { nodes: [aNode('local', { memoryBytes: 4 * GIB })], nodeWaitMs: 60_000 });
    expect(await controller.reconcile('demo/app-3')).toEqual({ requeueAfterMs: 5_000 });
    const waiting = await get('app-3');
    expect(waiting.status).toMatchObject({ phase: 'New', message: `waiting for a node to run on: every node that could take it is full with the builds in flight there (the build needs ${2 * GIB} bytes: its resources.limits.memory, else BUILD_MEMORY_BYTES)` });
    expect(waiting.metadata.annotations?.[WAITING_FOR_NODE_ANNOTATION]).toBeUndefined();
    expect(published).toEqual([]);
    expect(runs.started).toEqual([]);

    await store.update('demo', 'app-1', (build) => ({ ...build, status: { ...build.status, phase: 'Complete' } }));
    await controller.reconcile('demo/app-3');
    const claimed = await get('app-3');
    expect(claimed.status).toMatchObject({ phase: 'Pending', nodeName: 'local' });
    expect(claimed.status.message).toBeUndefined();
    expect(runs.started).toEqual(['demo/app-3']);
  });

  it('looks at the waiting builds again when a build in flight ends or goes', async () => {
    const { store } = await setup([aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/other' }, 'local'), aBuild('app-2', 'Running', {}, 'local'), aBuild('app-3', 'New')]);
    const enqueued = jest.spyOn(controller, 'enqueue').mockImplementation(() => undefined);
    await controller.onModuleInit();
    await store.update('demo', 'app-1', (build) => ({ ...build, status: { ...build.status, phase: 'Failed' } }));
    expect(enqueued.mock.calls).toEqual([
      ['demo', 'app-1'],
      ['demo', 'app-3'],
    ]);
    enqueued.mockClear();
    await store.delete('demo', 'app-2');
    expect(enqueued.mock.calls).toEqual([
      ['demo', 'app-2'],
      ['demo', 'app-3'],
    ]);
  });

  it("removes a dead runner's container from the node its build was placed on", async () => {
    const { removed } = await setup([aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/dead' }, 'node-1')], { nodes: [aNode('local'), aNode('node-1')] });
    await controller.reconcile('demo/app-1');
    expect(removed).toEqual(['node-1:paas-build-demo.app-1']);
  });

  it('stops a run of a build that was deleted', async () => {
    const { runs, store } = await setup([aBuild('app-1', 'New')]);
    await controller.reconcile('demo/app-1');
    await store.delete('demo', 'app-1');
    await controller.reconcile('demo/app-1');
    expect(runs.abort).toHaveBeenCalledWith('demo', 'app-1');
  });

  describe('a cancelled build', () => {
    const cancelled = (build: Build): Build => ({ ...build, status: { ...build.status, cancelled: true } });

    it('that is New ends Cancelled at once, says so in its log and owes build.failed with CancelledBuild, and is never claimed', async () => {
      const { runs, get, published, logs } = await setup([cancelled(aBuild('app-1', 'New'))]);
      expect(await controller.reconcile('demo/app-1')).toEqual({});
      expect((await get('app-1')).status).toMatchObject({ phase: 'Cancelled', reason: 'CancelledBuild', message: 'The build was cancelled by the user.', completionTimestamp: expect.any(String) });
      expect(runs.started).toEqual([]);
      expect(published).toEqual([expect.objectContaining({ type: 'build.failed', data: expect.objectContaining({ name: 'app-1', reason: 'CancelledBuild' }) })]);
      expect((await logs.read('demo', 'app-1', 0)).text).toContain('cancelled by the user');
    });

    it('that runs here is stopped by its run, which records the end', async () => {
      const { runs, get, store } = await setup([aBuild('app-1', 'New')]);
      await controller.reconcile('demo/app-1');
      await store.update('demo', 'app-1', cancelled);
      expect(await controller.reconcile('demo/app-1')).toEqual({});
      expect(runs.cancel).toHaveBeenCalledWith('demo', 'app-1');
      expect((await get('app-1')).status.phase).toBe('Pending');
    });

    it('that another replica runs is left to it while it holds the runner lease', async () => {
      const { leases, get } = await setup([cancelled(aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/other' }, 'local'))]);
      leases.states.set('build:uid-app-1', 'held');
      expect(await controller.reconcile('demo/app-1')).toEqual({ requeueAfterMs: 800 });
      expect((await get('app-1')).status.phase).toBe('Running');
    });

    it('whose runner is gone ends Cancelled, its container removed, instead of running again', async () => {
      const { get, removed, runs } = await setup([cancelled(aBuild('app-1', 'Running', { [RUNNER_ANNOTATION]: 'host/2/dead' }, 'local'))]);
      await controller.reconcile('demo/app-1');
      expect((await get('app-1')).status).toMatchObject({ phase: 'Cancelled', reason: 'CancelledBuild' });
      expect(removed).toEqual(['paas-build-demo.app-1']);
      expect(runs.started).toEqual([]);
    });
  });

  describe('runPolicy', () => {
    const numbered = (name: string, phase: Build['status']['phase'], runPolicy: Build['spec']['runPolicy']): Build => {
      const build = aBuild(name, phase, { 'openshift.io/build.number': name.split('-')[1] });
      return { ...build, spec: { ...build.spec, runPolicy } };
    };

    it('Serial: runs the builds of a BuildConfig one at a time, in order, each waiting saying for which', async () => {
      const { runs, get } = await setup([numbered('app-2', 'New', 'Serial'), numbered('app-1', 'New', 'Serial')]);
      expect(await controller.reconcile('demo/app-2')).toEqual({ requeueAfterMs: 5_000 });
      expect((await get('app-2')).status).toMatchObject({ phase: 'New', message: 'waiting for build app-1 of the same BuildConfig to finish (runPolicy Serial)' });
      await controller.reconcile('demo/app-1');
      expect(runs.started).toEqual(['demo/app-1']);
      // app-1 in flight still holds app-2.
      expect(await controller.reconcile('demo/app-2')).toEqual({ requeueAfterMs: 5_000 });
      runs.finish('demo/app-1');
      await new Promise((resolve) => setImmediate(resolve));
    });

    it('Serial: the next build goes once the one before it has ended, and its waiting message goes with the claim', async () => {
      const { runs, get, store } = await setup([numbered('app-1', 'Running', 'Serial'), numbered('app-2', 'New', 'Serial')]);
      await controller.reconcile('demo/app-2');
      await store.update('demo', 'app-1', (build) => ({ ...build, status: { ...build.status, phase: 'Complete' } }));
      await controller.reconcile('demo/app-2');
      expect(runs.started).toEqual(['demo/app-2']);
      const claimed = (await get('app-2')).status;
      expect([claimed.phase, claimed.message]).toEqual(['Pending', undefined]);
      runs.finish('demo/app-2');
      await new Promise((resolve) => setImmediate(resolve));
    });

    it('SerialLatestOnly: a waiting build with a newer one behind it is cancelled, saying which', async () => {
      const { runs, get } = await setup([numbered('app-1', 'Running', 'SerialLatestOnly'), numbered('app-2', 'New', 'SerialLatestOnly'), numbered('app-3', 'New', 'SerialLatestOnly')]);
      await controller.reconcile('demo/app-2');
      expect((await get('app-2')).status).toMatchObject({ phase: 'Cancelled', reason: 'CancelledBuild', message: 'Cancelled: build app-3 was started after it (runPolicy SerialLatestOnly).' });
      await controller.reconcile('demo/app-3');
      expect((await get('app-3')).status).toMatchObject({ phase: 'New', message: expect.stringContaining('waiting for build app-1') });
      expect(runs.started).toEqual([]);
    });

    it('Parallel: runs every build at once', async () => {
      const { runs } = await setup([numbered('app-1', 'Running', 'Parallel'), numbered('app-2', 'New', 'Parallel')]);
      await controller.reconcile('demo/app-2');
      expect(runs.started).toEqual(['demo/app-2']);
      runs.finish('demo/app-2');
      await new Promise((resolve) => setImmediate(resolve));
    });
  });

  it('keeps the newest ended builds of a BuildConfig as its history limits say, and deletes the older ones', async () => {
    const ended = (name: string, phase: Build['status']['phase']): Build => {
      const build = aBuild(name, phase, { 'openshift.io/build.number': name.split('-')[1] });
      return { ...build, spec: { ...build.spec, successfulBuildsHistoryLimit: 2, failedBuildsHistoryLimit: 1 } };
    };
    const builds = [ended('app-1', 'Complete'), ended('app-2', 'Failed'), ended('app-3', 'Complete'), ended('app-4', 'Cancelled'), ended('app-5', 'Complete'), aBuild('app-6', 'Running', { 'openshift.io/build.number': '6' })];
    const { pruned, get } = await setup(builds);
    await controller.reconcile('demo/app-5');
    expect(pruned.sort()).toEqual(['app-1', 'app-2']);
    await expect(get('app-1')).rejects.toMatchObject({ status: { code: 404 } });
    // A second look finds nothing more to prune.
    await controller.reconcile('demo/app-3');
    expect(pruned).toHaveLength(2);
  });
});
