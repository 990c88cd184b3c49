import type { Pod, ReplicationController } from '@paas/contracts/deployments';
import type { TrafficAddress } from '@paas/contracts/routes';
import { ImagePullError, type RuntimeContainer } from '../adapters/container-runtime';
import { ContainerEnvironment } from '../pods/container-env';
import { TERMINATING_ANNOTATION } from '../pods/pod-state';
import { aNode, deployFixture, FakeCluster, ownerLabels, RecordingTracker, replicationController, runningPod, stopFixture, testCipher, testSettings, type DeployFixture } from '../testing/fakes';
import { ReplicationControllerReconciler } from './replicationcontroller.reconciler';

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

/** The routers as the reconciler asks them: `held` says what still holds every address asked about. */
class FakeRouters {
  held: string | undefined;
  readonly asked: TrafficAddress[] = [];
  async holding(addresses: TrafficAddress[]) {
    this.asked.push(...addresses);
    return addresses.map(() => this.held);
  }
}

async function setup(rc: ReplicationController, settings: { batchSize?: number; drainTimeoutMs?: number } = {}) {
  const fixture = await deployFixture(['Pod']);
  fixtures.push(fixture);
  const { log, rcs, pods, endpoints, informers, nodes } = fixture;
  const now = { value: Date.parse('2030-01-01T00:01:00Z') };
  const cluster = new FakeCluster(fixture);
  const runtime = cluster.node('local');
  const tracker = new RecordingTracker();
  const routers = new FakeRouters();
  rcs.seed(rc);
  const environment = new ContainerEnvironment(informers, testCipher());
  const reconciler = new ReplicationControllerReconciler(rcs, pods, informers, cluster, tracker, environment, routers, testSettings(now, settings));
  const setEndpoints = async (addresses: { pod: Pod; port: number }[]) => {
    endpoints.seed({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'demo', uid: 'uid-ep', resourceVersion: String(Date.now()), generation: 1, creationTimestamp: '2030-01-01T00:00:00Z' },
      spec: {
        addresses: addresses.map(({ pod, port }) => ({ ip: '127.0.0.1', port, targetRef: { kind: 'Pod' as const, name: pod.metadata.name, uid: pod.metadata.uid } })),
        notReadyAddresses: [],
      },
      status: { generation: 1 },
    });
  };
  return { log, now, rcs, pods, nodes, cluster, runtime, tracker, routers, reconciler, setEndpoints, published: fixture.published, configMaps: fixture.configMaps, key: `demo/${rc.metadata.name}` };
}

describe('ReplicationControllerReconciler', () => {
  it('scales up from 0: creates the pod records one by one, then runs their containers side by side with owner labels, its container port and the template env', async () => {
    const rc = replicationController(1, 2);
    const { log, pods, runtime, rcs, tracker, reconciler, key } = await setup(rc);

    await reconciler.reconcile(key);

    const created = await pods.list();
    expect(created).toHaveLength(2);
    const [a, b] = created.map((p) => p.metadata.name);
    expect(log).toEqual([`create Pod ${a}`, `create Pod ${b}`, `run ${a}`, `run ${b}`]);
    expect(runtime.runs[0]).toMatchObject({
      name: `paas.demo.${a}`,
      image: 'registry/demo/web@sha256:1',
      containerPort: 8080,
      env: [{ name: 'GREETING', value: 'hi' }],
      labels: { app: 'web', deploymentconfig: 'web', deployment: 'web-1', 'paas.dev/namespace': 'demo', 'paas.dev/pod': a, 'paas.dev/rc': 'web-1', 'paas.dev/dc': 'web' },
    });
    expect(created[0].metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'ReplicationController', uid: rc.metadata.uid })]);
    expect(created[0].status).toMatchObject({ phase: 'Running', hostIP: '127.0.0.1', podIP: '172.17.0.2', hostPort: expect.any(Number), containerID: 'c1', restartCount: 0 });
    // Probed pods start not ready; the prober decides.
    expect(created[0].status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' }), expect.objectContaining({ type: 'Ready', status: 'False' })]);
    expect(created.map((pod) => pod.spec.nodeName)).toEqual(['local', 'local']);
    expect([...tracker.watched]).toEqual([a, b]);
    expect((await rcs.get('demo', 'web-1')).status).toEqual({ replicas: 2, readyReplicas: 0, observedGeneration: 1 });
  });

  it('does nothing when the observed pods match: no runs, no removals, no status write', async () => {
    const rc = replicationController(1, 1);
    const { log, pods, runtime, reconciler, key, rcs } = await setup(rc);
    rcs.seed({ ...rc, status: { replicas: 1, readyReplicas: 1, observedGeneration: 1 } });
    pods.seed(runningPod(rc, 'web-1-aaaaa', 'c9', 40009, true));
    runtime.seed({ id: 'c9', labels: ownerLabels(rc, 'web-1-aaaaa'), state: 'running', hostPort: 40009 });

    expect(await reconciler.reconcile(key)).toEqual({});
    expect(log).toEqual([]);
  });

  it('scales down: takes the pod out of Endpoints first, stops its container only after the drain period and once no router holds it', async () => {
    const rc = replicationController(1, 1);
    const { log, now, pods, runtime, routers, reconciler, setEndpoints, key } = await setup(rc);
    const older = pods.seed(runningPod(rc, 'web-1-older', 'c1', 40001, true, '2030-01-01T00:00:01.000Z'));
    const newer = pods.seed(runningPod(rc, 'web-1-newer', 'c2', 40002, true, '2030-01-01T00:00:02.000Z'));
    runtime.seed({ id: 'c1', labels: ownerLabels(rc, older.metadata.name), state: 'running', hostPort: 40001 });
    runtime.seed({ id: 'c2', labels: ownerLabels(rc, newer.metadata.name), state: 'running', hostPort: 40002 });
    await setEndpoints([
      { pod: older, port: 40001 },
      { pod: newer, port: 40002 },
    ]);

    // 1: the newest pod is marked terminating and not ready (its change has its Endpoints reconciled); nothing stops yet.
    expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 1000 });
    expect(log).toEqual([]);
    const marked = await pods.get('demo', newer.metadata.name);
    expect(marked.metadata.annotations?.[TERMINATING_ANNOTATION]).toBeDefined();
    expect(marked.status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'Terminating' });
    expect(runtime.containers.has('c2')).toBe(true);

    // 2: drained, but the Endpoints still list it: keep it running, look again (their change would also say so).
    now.value += 1000;
    expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 1000 });
    expect(log).toEqual([]);

    // 3: out of the Endpoints, but a router replica still has a request in flight to it: keep it running, ask again soon.
    await setEndpoints([{ pod: older, port: 40001 }]);
    routers.held = 'router r1 has 1 request(s) in flight to it';
    expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 250 });
    expect(routers.asked).toEqual([{ ip: '127.0.0.1', port: 40002 }]);
    expect(log).toEqual([]);

    // 4: every router let go of it: stop with the grace period, then the record goes.
    routers.held = undefined;
    expect(await reconciler.reconcile(key)).toEqual({});
    expect(log).toEqual(['remove c2 grace=10', `delete Pod ${newer.metadata.name}`]);
    expect((await pods.list()).map((p) => p.metadata.name)).toEqual([older.metadata.name]);
  });

  it('stops a drained pod a router still holds once the drain timeout has passed', async () => {
    const rc = replicationController(1, 0);
    const { log, now, pods, runtime, routers, reconciler, key } = await setup(rc, { drainTimeoutMs: 5_000 });
    const pod = pods.seed(runningPod(rc, 'web-1-a', 'c1', 40001, true, '2030-01-01T00:00:01.000Z'));
    runtime.seed({ id: 'c1', labels: ownerLabels(rc, pod.metadata.name), state: 'running', hostPort: 40001 });
    routers.held = 'router r1 did not answer';

    await reconciler.reconcile(key);
    now.value += 4_000;
    expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 250 });
    expect(log).toEqual([]);
    now.value += 1_000;
    expect(await reconciler.reconcile(key)).toEqual({});
    expect(log).toEqual(['remove c1 grace=10', `delete Pod ${pod.metadata.name}`]);
  });

  it('replaces an exited container in the same pod and counts the restart', async () => {
    const rc = replicationController(1, 1);
    const { log, pods, runtime, reconciler, key } = await setup(rc);
    const pod = pods.seed(runningPod(rc, 'web-1-aaaaa', 'c7', 40007, true));
    runtime.seed({ id: 'c7', labels: ownerLabels(rc, pod.metadata.name), state: 'exited', exitCode: 137 });

    await reconciler.reconcile(key);

    expect(log).toEqual(['remove c7 grace=0', 'run web-1-aaaaa']);
    const replaced = await pods.get('demo', 'web-1-aaaaa');
    expect(replaced.status).toMatchObject({ phase: 'Running', containerID: 'c1', restartCount: 1, lastTermination: { exitCode: 137, reason: 'Error', containerID: 'docker://c7' } });
    expect(replaced.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
  });

  it("takes the engine's oom event for a container it inspected as a plain exit 137: OOMKilled, whether the event came before the restart or after it", async () => {
    const rc = replicationController(1, 1);
    const { pods, runtime, cluster, reconciler, key } = await setup(rc);
    pods.seed(runningPod(rc, 'web-1-aaaaa', 'c7', 40007, true));
    runtime.seed({ id: 'c7', labels: ownerLabels(rc, 'web-1-aaaaa'), state: 'exited', exitCode: 137 });
    cluster.oomKilled.add('c7');
    await reconciler.reconcile(key);
    expect((await pods.get('demo', 'web-1-aaaaa')).status.lastTermination).toMatchObject({ exitCode: 137, reason: 'OOMKilled', containerID: 'docker://c7' });

    // The event for the next container comes only once its pod says Error: the next reconcile (the event's) corrects it.
    runtime.seed({ ...(runtime.containers.get('c1') as RuntimeContainer), state: 'exited', exitCode: 137 });
    await reconciler.reconcile(key);
    expect((await pods.get('demo', 'web-1-aaaaa')).status.lastTermination).toMatchObject({ reason: 'Error', containerID: 'docker://c1' });
    cluster.oomKilled.add('c1');
    await reconciler.reconcile(key);
    expect((await pods.get('demo', 'web-1-aaaaa')).status.lastTermination).toMatchObject({ exitCode: 137, reason: 'OOMKilled', containerID: 'docker://c1' });
  });

  describe('a container that keeps stopping', () => {
    /** The pod after `restarts` restarts, its container c7 stopped `secondsAgo` seconds before now after running 0.4 s. */
    async function crashed(restarts: number, secondsAgo: number) {
      const rc = replicationController(1, 1);
      const fixture = await setup(rc);
      const pod = runningPod(rc, 'web-1-aaaaa', 'c7', 40007, true);
      fixture.pods.seed({ ...pod, status: { ...pod.status, restartCount: restarts } });
      const finished = fixture.now.value - secondsAgo * 1000;
      fixture.runtime.seed({
        id: 'c7',
        labels: ownerLabels(rc, pod.metadata.name),
        state: 'exited',
        exitCode: 1,
        user: '1001:0',
        startedAt: new Date(finished - 400).toISOString(),
        finishedAt: new Date(finished).toISOString(),
      });
      fixture.runtime.output.set('c7', 'starting\nmkdir: cannot create directory /var/run/app: Permission denied\nexiting\n');
      fixture.tracker.watch(pod);
      return fixture;
    }

    it('waits before starting it again, the pod not ready and saying why: CrashLoopBackOff with the exit code, the user and its last output', async () => {
      const { log, pods, runtime, tracker, reconciler, key } = await crashed(1, 2);

      expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 8_000 });

      // Announced once: the BackOff Event and the rollout's health gate.
      expect(log).toEqual(['publish pod.changed']);
      expect(runtime.containers.has('c7')).toBe(true);
      const waiting = await pods.get('demo', 'web-1-aaaaa');
      expect(waiting.status).toMatchObject({ reason: 'CrashLoopBackOff', restartCount: 1 });
      expect(waiting.status.message).toBe(
        'back-off 10 s before starting the container again: it exited with code 1 after 0.4 s, running as user 1001:0 without capabilities ' +
          '(pods never run as root; an image that needs root or a capability to start cannot run here); ' +
          'its last output: mkdir: cannot create directory /var/run/app: Permission denied | exiting',
      );
      expect(waiting.status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'CrashLoopBackOff' });
      expect(tracker.watched.has('web-1-aaaaa')).toBe(false);
    });

    it('writes the status once per stopped container, however often it is reconciled while waiting', async () => {
      const { pods, now, reconciler, key } = await crashed(1, 2);
      await reconciler.reconcile(key);
      const version = (await pods.get('demo', 'web-1-aaaaa')).metadata.resourceVersion;
      now.value += 3_000;
      expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 5_000 });
      expect((await pods.get('demo', 'web-1-aaaaa')).metadata.resourceVersion).toBe(version);
    });

    it('doubles the wait with each restart, up to the maximum', async () => {
      expect(await (await crashed(3, 0)).reconciler.reconcile('demo/web-1')).toEqual({ requeueAfterMs: 40_000 });
      expect(await (await crashed(12, 0)).reconciler.reconcile('demo/web-1')).toEqual({ requeueAfterMs: 300_000 });
    });

    it('starts it again once the wait is over, and the pod runs without the reason', async () => {
      const { log, pods, now, reconciler, key } = await crashed(1, 2);
      await reconciler.reconcile(key);
      now.value += 8_000;
      await reconciler.reconcile(key);
      expect(log).toEqual(['publish pod.changed', 'remove c7 grace=0', 'run web-1-aaaaa']);
      const restarted = await pods.get('demo', 'web-1-aaaaa');
      expect(restarted.status).toMatchObject({ phase: 'Running', restartCount: 2, containerID: 'c1' });
      expect(restarted.status.reason).toBeUndefined();
      expect(restarted.status.message).toBeUndefined();
      expect(restarted.status.lastTermination).toMatchObject({ exitCode: 1, reason: 'Error', containerID: 'docker://c7', finishedAt: expect.any(String) });
    });

    it('says a container the kernel killed for its memory went over its limit (OOMKilled), in the message and the last termination', async () => {
      const { pods, runtime, reconciler, key } = await crashed(1, 2);
      runtime.seed({ ...(runtime.containers.get('c7') as RuntimeContainer), exitCode: 137, oomKilled: true });
      await reconciler.reconcile(key);
      const waiting = await pods.get('demo', 'web-1-aaaaa');
      expect(waiting.status.message).toContain('it was killed for going over its memory limit (OOMKilled, exit code 137) after 0.4 s');
      expect(waiting.status.lastTermination).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    });
  });

  it('runs every pod in its namespace with the default memory limit when the template sets none, and the pids limit', async () => {
    const rc = replicationController(1, 1);
    const { runtime, reconciler, key } = await setup(rc);
    await reconciler.reconcile(key);
    expect(runtime.runs[0]).toMatchObject({ namespace: 'demo', memoryBytes: 512 * 1024 ** 2, pidsLimit: 1024 });
  });

  it("keeps a template's own memory limit", async () => {
    const rc = replicationController(1, 1);
    const [container] = rc.spec.template.spec.containers;
    rc.spec.template.spec.containers = [{ ...container, resources: { limits: { memoryBytes: 64 * 1024 ** 2 } } }];
    const { runtime, reconciler, key } = await setup(rc);
    await reconciler.reconcile(key);
    expect(runtime.runs[0].memoryBytes).toBe(64 * 1024 ** 2);
  });

  it('removes containers it owns that have no pod, and never lists containers of other owners', async () => {
    const rc = replicationController(1, 0);
    const { log, runtime, reconciler, key } = await setup(rc);
    runtime.seed({ id: 'stray', labels: ownerLabels(rc, 'web-1-ghost'), state: 'running' });
    runtime.seed({ id: 'foreign', labels: { 'paas.dev/managed-by': 'build-service', 'paas.dev/namespace': 'demo' }, state: 'running' });
    runtime.seed({ id: 'other-rc', labels: ownerLabels(replicationController(2, 1), 'web-2-x'), state: 'running' });

    await reconciler.reconcile(key);

    expect(log).toEqual(['remove stray grace=10']);
    expect([...runtime.containers.keys()]).toEqual(['foreign', 'other-rc']);
  });

  it('removes the pods and containers of an RC that was deleted', async () => {
    const rc = replicationController(1, 1);
    const { log, pods, runtime, rcs, reconciler, key } = await setup(rc);
    pods.seed(runningPod(rc, 'web-1-aaaaa', 'c3', 40003, true));
    runtime.seed({ id: 'c3', labels: ownerLabels(rc, 'web-1-aaaaa'), state: 'running' });
    await rcs.delete('demo', 'web-1');

    await reconciler.reconcile(key);

    expect(log).toEqual(['delete Pod web-1-aaaaa', 'remove c3 grace=10']);
  });

  it('records a failed image pull on the pod and fails the reconcile so it is retried with backoff', async () => {
    const rc = replicationController(1, 1);
    const { pods, runtime, reconciler, key, rcs, published } = await setup(rc);
    runtime.run = async () => {
      throw new ImagePullError('pulling registry/demo/web@sha256:1 failed: manifest unknown');
    };

    await expect(reconciler.reconcile(key)).rejects.toThrow(/manifest unknown/);
    const [pod] = await pods.list();
    expect(pod.status).toMatchObject({ phase: 'Pending', reason: 'ErrImagePull' });
    expect((await rcs.get('demo', 'web-1')).status.replicas).toBe(1);
    // Announced with why: the gateway records a Warning Event.
    expect(published.filter((event) => event.type === 'pod.changed').map((event) => event.data)).toEqual([
      expect.objectContaining({ ready: false, reason: 'ErrImagePull', message: 'pulling registry/demo/web@sha256:1 failed: manifest unknown' }),
    ]);
  });

  it('a pod whose env names a ConfigMap that is not there waits (CreateContainerConfigError), and starts with its value once it is', async () => {
    const rc = replicationController(1, 1);
    rc.spec.template.spec.containers[0].env = [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode', optional: false } } }];
    const { pods, runtime, reconciler, key, published, configMaps } = await setup(rc);

    await expect(reconciler.reconcile(key)).rejects.toThrow(/configmap "settings" not found/);
    const [pod] = await pods.list();
    expect(pod.status).toMatchObject({ phase: 'Pending', reason: 'CreateContainerConfigError', message: 'configmap "settings" not found' });
    expect(runtime.runs).toHaveLength(0);
    expect(published.filter((event) => event.type === 'pod.changed').map((event) => event.data)).toEqual([expect.objectContaining({ reason: 'CreateContainerConfigError' })]);

    configMaps.seed({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'demo', uid: 'uid-cm', resourceVersion: '1', generation: 1, creationTimestamp: '2030-01-01T00:00:00Z' },
      spec: { data: { mode: 'fast' } },
      status: {},
    });
    await reconciler.reconcile(key);
    expect(runtime.runs.map((run) => run.env)).toEqual([[{ name: 'MODE', value: 'fast' }]]);
    expect((await pods.get('demo', pod.metadata.name)).status).toMatchObject({ phase: 'Running', restartCount: 0 });
  });

  it('starts at most batchSize containers per reconcile and asks to be requeued', async () => {
    const rc = replicationController(1, 5);
    const { runtime, reconciler, key } = await setup(rc, { batchSize: 2 });
    expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 0 });
    expect(runtime.runs).toHaveLength(2);
    expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 0 });
    await reconciler.reconcile(key);
    expect(runtime.runs).toHaveLength(5);
  });

  describe('on several nodes', () => {
    it('spreads the pods of one DeploymentConfig over the Ready, schedulable nodes', async () => {
      const rc = replicationController(1, 4);
      const { pods, nodes, reconciler, key } = await setup(rc);
      nodes.seed(aNode('node-1'));
      nodes.seed(aNode('node-2', { unschedulable: true }));
      nodes.seed(aNode('node-3', { ready: false }));
      await reconciler.reconcile(key);
      const placed = (await pods.list()).map((pod) => pod.spec.nodeName).sort();
      expect(placed).toEqual(['local', 'local', 'node-1', 'node-1']);
      const onNode1 = (await pods.list()).find((pod) => pod.spec.nodeName === 'node-1');
      expect(onNode1?.status).toMatchObject({ hostIP: '10.250.6.2', containerID: expect.stringMatching(/^node-1:c/) });
    });

    it("puts a DeploymentConfig's first pod on the node that holds its image (no pull), over one that comes first by name", async () => {
      const rc = replicationController(1, 1);
      const { pods, nodes, cluster, reconciler, key } = await setup(rc);
      nodes.seed(aNode('node-1'));
      // What the RC runs is on node-1 only (built there): local would win on its name.
      cluster.node('node-1').images.add(rc.spec.template.spec.containers[0].image);
      await reconciler.reconcile(key);
      expect((await pods.list()).map((pod) => pod.spec.nodeName)).toEqual(['node-1']);
    });

    it("asks the nodes for a new revision's image once a reconcile, while it lists their containers, and not when no pod is to be placed", async () => {
      const rc = replicationController(1, 3);
      const { pods, nodes, cluster, reconciler, key } = await setup(rc);
      nodes.seed(aNode('node-1'));
      const calls: string[] = [];
      const list = cluster.listByOwner.bind(cluster);
      jest.spyOn(cluster, 'listByOwner').mockImplementation(async (labels) => {
        calls.push('list');
        const listed = await list(labels);
        calls.push('listed');
        return listed;
      });
      const asked = jest.spyOn(cluster, 'nodesHolding').mockImplementation(async () => {
        calls.push('asked');
        return new Set();
      });

      await reconciler.reconcile(key);
      expect(calls).toEqual(['asked', 'list', 'listed']);
      expect(await pods.list()).toHaveLength(3);

      await reconciler.reconcile(key);
      expect(asked).toHaveBeenCalledTimes(1);
    });

    it('replaces the pods of a node that stopped answering on the others, at once', async () => {
      const rc = replicationController(1, 2);
      const { pods, nodes, cluster, reconciler, key, log } = await setup(rc);
      nodes.seed(aNode('node-1'));
      pods.seed({ ...runningPod(rc, 'web-1-here', 'c1', 40001, true), spec: { ...runningPod(rc, 'web-1-here', 'c1', 40001, true).spec, nodeName: 'local' } });
      cluster.node('local').seed({ id: 'c1', labels: ownerLabels(rc, 'web-1-here'), state: 'running', hostPort: 40001 });
      const away = runningPod(rc, 'web-1-away', 'node-1:c1', 40002, true);
      pods.seed({ ...away, spec: { ...away.spec, nodeName: 'node-1' } });
      cluster.node('node-1').seed({ id: 'node-1:c1', labels: ownerLabels(rc, 'web-1-away'), state: 'running', hostPort: 40002 });
      nodes.seed(aNode('node-1', { ready: false }));

      await reconciler.reconcile(key);

      const left = await pods.list();
      expect(left.map((pod) => pod.metadata.name)).not.toContain('web-1-away');
      expect(left.map((pod) => pod.spec.nodeName).sort()).toEqual(['local', 'local']);
      expect(log).toContain('delete Pod web-1-away');
    });

    it('removes, once a lost node is back, the containers of pods that moved away', async () => {
      const rc = replicationController(1, 1);
      const { pods, nodes, cluster, reconciler, key, log } = await setup(rc);
      pods.seed(runningPod(rc, 'web-1-here', 'c1', 40001, true));
      cluster.node('local').seed({ id: 'c1', labels: ownerLabels(rc, 'web-1-here'), state: 'running', hostPort: 40001 });
      nodes.seed(aNode('node-1'));
      cluster.node('node-1').seed({ id: 'node-1:c9', labels: ownerLabels(rc, 'web-1-gone'), state: 'running', hostPort: 40009 });
      await reconciler.reconcile(key);
      expect(log).toEqual(['remove node-1:c9 grace=10']);
    });

    it('drains a node: replacements elsewhere first, the drained pods only once those are all ready', async () => {
      const rc = replicationController(1, 1);
      const { pods, nodes, cluster, reconciler, key, now } = await setup(rc);
      nodes.seed(aNode('node-1'));
      const away = runningPod(rc, 'web-1-away', 'node-1:c1', 40002, true);
      pods.seed({ ...away, spec: { ...away.spec, nodeName: 'node-1' } });
      cluster.node('node-1').seed({ id: 'node-1:c1', labels: ownerLabels(rc, 'web-1-away'), state: 'running', hostPort: 40002 });
      nodes.seed(aNode('node-1', { draining: true, unschedulable: true }));

      await reconciler.reconcile(key);
      const [replacement] = (await pods.list()).filter((pod) => pod.metadata.name !== 'web-1-away');
      expect(replacement.spec.nodeName).toBe('local');
      expect((await pods.get('demo', 'web-1-away')).metadata.annotations?.[TERMINATING_ANNOTATION]).toBeUndefined();

      // The replacement is ready: now the drained pod leaves.
      await pods.update('demo', replacement.metadata.name, (pod) => ({ ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '' }] } }));
      now.value += 1;
      await reconciler.reconcile(key);
      expect((await pods.get('demo', 'web-1-away')).metadata.annotations?.[TERMINATING_ANNOTATION]).toBeDefined();
    });

    it('keeps a pod no node can take Pending, Unschedulable with the reason, and places it once a node can', async () => {
      const rc = replicationController(1, 1);
      const { pods, nodes, reconciler, key, published } = await setup(rc);
      nodes.seed(aNode('local', { unschedulable: true }));
      expect(await reconciler.reconcile(key)).toEqual({ requeueAfterMs: 5_000 });
      const [waiting] = await pods.list();
      expect(waiting.spec.nodeName).toBe('');
      expect(waiting.status).toMatchObject({ phase: 'Pending', reason: 'Unschedulable', message: 'every Ready node is cordoned' });
      expect(published.map((event) => event.data)).toEqual([expect.objectContaining({ name: waiting.metadata.name, ready: false, reason: 'Unschedulable', message: 'every Ready node is cordoned' })]);
      nodes.seed(aNode('local'));
      await reconciler.reconcile(key);
      expect(await pods.get('demo', waiting.metadata.name)).toMatchObject({ spec: { nodeName: 'local' }, status: { phase: 'Running' } });
    });
  });
});
