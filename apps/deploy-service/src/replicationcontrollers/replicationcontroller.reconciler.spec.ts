import type { Pod, ReplicationController } from '@paas/contracts/deployments';
import { ImagePullError } from '../adapters/container-runtime';
import { TERMINATING_ANNOTATION } from '../pods/pod-state';
import { deployFixture, FakeRuntime, ownerLabels, RecordingTracker, replicationController, runningPod, stopFixture, testSettings, type DeployFixture } from '../testing/fakes';
import { ReplicationControllerReconciler } from './replicationcontroller.reconciler';

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

async function setup(rc: ReplicationController, settings: { batchSize?: number } = {}) {
  const fixture = await deployFixture(['Pod']);
  fixtures.push(fixture);
  const { log, rcs, pods, endpoints, informers } = fixture;
  const now = { value: Date.parse('2030-01-01T00:01:00Z') };
  const runtime = new FakeRuntime(log);
  const tracker = new RecordingTracker();
  rcs.seed(rc);
  const reconciler = new ReplicationControllerReconciler(rcs, pods, informers, runtime, tracker, testSettings(now, settings));
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
  return { log, now, rcs, pods, runtime, tracker, reconciler, setEndpoints, key: `demo/${rc.metadata.name}` };
}

describe('ReplicationControllerReconciler', () => {
  it('scales up from 0: creates each pod record, then runs its container with owner labels, its container port and the template env', async () => {
    const rc = replicationController(1, 2);
    const { log, pods, runtime, rcs, tracker, reconciler, key } = await setup(rc);

    await reconciler.reconcile(key);

    const created = await pods.list();
    expect(created).toHaveLength(2);
    const [a, b] = created.map((p) => p.metadata.name);
    expect(log).toEqual([`create Pod ${a}`, `run ${a}`, `create Pod ${b}`, `run ${b}`]);
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
    expect(created[0].status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'False' })]);
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

  it('scales down: takes the pod out of Endpoints first, stops its container only after the drain period', async () => {
    const rc = replicationController(1, 1);
    const { log, now, pods, runtime, reconciler, setEndpoints, key } = await setup(rc);
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

    // 3: out of the Endpoints: stop with the grace period, then the record goes.
    log.length = 0;
    await setEndpoints([{ pod: older, port: 40001 }]);
    expect(await reconciler.reconcile(key)).toEqual({});
    expect(log).toEqual(['remove c2 grace=10', `delete Pod ${newer.metadata.name}`]);
    expect((await pods.list()).map((p) => p.metadata.name)).toEqual([older.metadata.name]);
  });

  it('replaces an exited container in the same pod and counts the restart', async () => {
    const rc = replicationController(1, 1);
    const { log, pods, runtime, reconciler, key } = await setup(rc);
    const pod = pods.seed(runningPod(rc, 'web-1-aaaaa', 'c7', 40007, true));
    runtime.seed({ id: 'c7', labels: ownerLabels(rc, pod.metadata.name), state: 'exited', exitCode: 137 });

    await reconciler.reconcile(key);

    expect(log).toEqual(['remove c7 grace=0', 'run web-1-aaaaa']);
    const replaced = await pods.get('demo', 'web-1-aaaaa');
    expect(replaced.status).toMatchObject({ phase: 'Running', containerID: 'c1', restartCount: 1 });
    expect(replaced.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
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
    const { pods, runtime, reconciler, key, rcs } = await setup(rc);
    runtime.run = async () => {
      throw new ImagePullError('pulling registry/demo/web@sha256:1 failed: manifest unknown');
    };

    await expect(reconciler.reconcile(key)).rejects.toThrow(/manifest unknown/);
    const [pod] = await pods.list();
    expect(pod.status).toMatchObject({ phase: 'Pending', reason: 'ErrImagePull' });
    expect((await rcs.get('demo', 'web-1')).status.replicas).toBe(1);
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
});
