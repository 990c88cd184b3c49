import type { DeploymentConfig, Pod, ReplicationController } from '@paas/contracts/deployments';
import { deployFixture, MemoryRolloutLogs, replicationController, runningPod, stopFixture, testSettings, type DeployFixture, noHooks } from '../testing/fakes';
import { DeploymentConfigReconciler } from './deploymentconfig.reconciler';

function deploymentConfig(latestVersion: number, replicas = 1): DeploymentConfig {
  const rc = replicationController(latestVersion || 1, replicas);
  return {
    apiVersion: 'v1',
    kind: 'DeploymentConfig',
    metadata: { name: 'web', namespace: 'demo', uid: 'uid-web', resourceVersion: '1', generation: 3, creationTimestamp: '2030-01-01T00:00:00Z' },
    spec: {
      replicas,
      selector: { deploymentconfig: 'web' },
      template: { metadata: { labels: { app: 'web', deploymentconfig: 'web' } }, spec: rc.spec.template.spec },
      triggers: [{ type: 'ConfigChange' }],
      strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 } },
      paused: false,
      progressDeadlineSeconds: 600,
      minReadySeconds: 0,
      revisionHistoryLimit: 10,
    },
    status: { latestVersion, observedGeneration: 0, replicas: 0, readyReplicas: 0, updatedReplicas: 0, conditions: [] },
  };
}

function revision(version: number, replicas: number, ready: number, phase: string, current = replicas): ReplicationController {
  const rc = replicationController(version, replicas);
  return { ...rc, metadata: { ...rc.metadata, annotations: { ...rc.metadata.annotations, 'openshift.io/deployment.phase': phase } }, status: { replicas: current, readyReplicas: ready, observedGeneration: 1 } };
}

const SCALED = 'deployment.scaled';

/** What was published or logged, less the `deployment.scaled` of each scaling step (their own test reads those). */
function announced<T extends string | { type: string }>(items: T[]): T[] {
  return items.filter((item) => (typeof item === 'string' ? item !== `publish ${SCALED}` : item.type !== SCALED));
}

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

async function setup(dc: DeploymentConfig, rcs: ReplicationController[], pods: Pod[] = []) {
  const fixture = await deployFixture(['ReplicationController']);
  fixtures.push(fixture);
  const { log, dcs, rcs: rcStore, informers, published } = fixture;
  dcs.seed(dc);
  rcs.forEach((rc) => rcStore.seed(rc));
  pods.forEach((pod) => fixture.pods.seed(pod));
  const now = { value: Date.parse('2030-01-01T00:01:00Z') };
  const imageTriggers = { resolve: jest.fn(async (current: DeploymentConfig) => ({ dc: current })), forget: jest.fn() };
  const rolloutLogs = new MemoryRolloutLogs();
  const reconciler = new DeploymentConfigReconciler(dcs, rcStore, informers, imageTriggers, testSettings(now), rolloutLogs, noHooks);
  const replicas = async () => Object.fromEntries((await rcStore.list()).map((rc) => [rc.metadata.name, rc.spec.replicas]));
  return { log, dcs, rcStore, published, reconciler, replicas, now, rolloutLogs };
}

describe('DeploymentConfigReconciler', () => {
  it('rollout order: announces revision 2, surges it to 1 and leaves revision 1 serving until the new pod is ready', async () => {
    const { log, reconciler, replicas, published } = await setup(deploymentConfig(2), [revision(1, 1, 1, 'Complete'), revision(2, 0, 0, 'New')]);

    await reconciler.reconcile('demo/web');

    expect(announced(log)).toEqual(['publish deployment.triggered']);
    expect(announced(published)[0]).toMatchObject({ type: 'deployment.triggered', data: { namespace: 'demo', name: 'web', uid: 'uid-web', version: 2 }, id: 'deployment.triggered:uid-web:2' });
    expect(await replicas()).toEqual({ 'web-1': 1, 'web-2': 1 });
  });

  it('announces each revision it scales (deployment.scaled, a Normal Event on the DC), once per write', async () => {
    const { reconciler, published } = await setup(deploymentConfig(2), [revision(1, 1, 1, 'Complete'), revision(2, 1, 1, 'Running')]);
    await reconciler.reconcile('demo/web');
    await reconciler.reconcile('demo/web');
    expect(published.filter((event) => event.type === SCALED)).toEqual([
      { id: 'deployment.scaled:uid-web-1:2', type: SCALED, data: { namespace: 'demo', name: 'web', uid: 'uid-web', replicationController: 'web-1', from: 1, to: 0 } },
    ]);
  });

  it('rollout order: scales revision 1 to 0 once revision 2 is ready, then reports rolled when no old pod is left', async () => {
    const ready = await setup(deploymentConfig(2), [revision(1, 1, 1, 'Complete'), revision(2, 1, 1, 'Running')]);
    await ready.reconciler.reconcile('demo/web');
    expect(announced(ready.log)).toEqual([]);
    expect(await ready.replicas()).toEqual({ 'web-1': 0, 'web-2': 1 });

    const drained = await setup(deploymentConfig(2), [revision(1, 0, 0, 'Complete'), revision(2, 1, 1, 'Running')]);
    await drained.reconciler.reconcile('demo/web');
    expect(announced(drained.log)).toEqual(['publish deployment.rolled']);
    expect(announced(drained.published)[0]).toMatchObject({ type: 'deployment.rolled', data: { version: 2, replicationController: 'web-2' } });
    const dc = await drained.dcs.get('demo', 'web');
    expect(dc.status).toMatchObject({ latestVersion: 2, replicas: 1, readyReplicas: 1, updatedReplicas: 1, observedGeneration: 3 });
    expect(dc.status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'Available', status: 'True' }),
        expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'NewReplicationControllerAvailable' }),
      ]),
    );
  });

  it('Recreate: scales revision 1 to 0 before revision 2 gets a pod, and revision 2 up once no pod of revision 1 is left', async () => {
    const recreate = (dc: DeploymentConfig): DeploymentConfig => ({ ...dc, spec: { ...dc.spec, strategy: { ...dc.spec.strategy, type: 'Recreate' } } });
    const first = await setup(recreate(deploymentConfig(2)), [revision(1, 1, 1, 'Complete'), revision(2, 0, 0, 'New')]);
    await first.reconciler.reconcile('demo/web');
    expect(announced(first.log)).toEqual(['publish deployment.triggered']);
    expect(await first.replicas()).toEqual({ 'web-1': 0, 'web-2': 0 });

    const stopping = await setup(recreate(deploymentConfig(2)), [revision(1, 0, 0, 'Complete', 1), revision(2, 0, 0, 'Running')]);
    await stopping.reconciler.reconcile('demo/web');
    expect(await stopping.replicas()).toEqual({ 'web-1': 0, 'web-2': 0 });
    expect((await stopping.dcs.get('demo', 'web')).status.conditions).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Available', status: 'False', message: '0 of 1 required replicas are ready' })]),
    );

    const drained = await setup(recreate(deploymentConfig(2)), [revision(1, 0, 0, 'Complete'), revision(2, 0, 0, 'Running')]);
    await drained.reconciler.reconcile('demo/web');
    expect(announced(drained.log)).toEqual([]);
    expect(await drained.replicas()).toEqual({ 'web-1': 0, 'web-2': 1 });
  });

  it('fails a revision past rollingParams.timeoutSeconds with ProgressDeadlineExceeded and keeps the old one serving', async () => {
    const { reconciler, replicas, published, now, dcs } = await setup(deploymentConfig(2), [revision(1, 1, 1, 'Complete'), revision(2, 1, 0, 'Running')]);
    now.value = Date.parse('2030-01-01T00:10:01Z');
    await reconciler.reconcile('demo/web');
    expect(announced(published)).toEqual([expect.objectContaining({ type: 'deployment.failed', data: expect.objectContaining({ version: 2, reason: 'ProgressDeadlineExceeded' }) })]);
    expect(await replicas()).toEqual({ 'web-1': 1, 'web-2': 0 });
    expect((await dcs.get('demo', 'web')).status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' })]));
  });

  it('health gate: a pod of the new revision in CrashLoopBackOff fails it at once and revision 1 gets every replica back', async () => {
    const rc2 = revision(2, 2, 0, 'Running');
    const crashing = runningPod(rc2, 'web-2-a', 'c1', 40001, false);
    crashing.status = { ...crashing.status, reason: 'CrashLoopBackOff', message: 'exited with code 3 after 0.2 s', restartCount: 2 };
    const { reconciler, replicas, published, dcs, rcStore } = await setup(deploymentConfig(2, 2), [revision(1, 1, 1, 'Complete'), rc2], [crashing]);

    await reconciler.reconcile('demo/web');

    expect(await replicas()).toEqual({ 'web-1': 2, 'web-2': 0 });
    const message = 'a pod of revision 2 crash-loops: web-2-a: exited with code 3 after 0.2 s; revision 1 serves again';
    expect(announced(published)).toEqual([expect.objectContaining({ type: 'deployment.failed', data: expect.objectContaining({ version: 2, reason: 'CrashLoopBackOff', message }) })]);
    expect((await rcStore.get('demo', 'web-2')).metadata.annotations).toMatchObject({ 'openshift.io/deployment.phase': 'Failed', 'openshift.io/deployment.status-reason': 'CrashLoopBackOff' });
    expect((await dcs.get('demo', 'web')).status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Progressing', status: 'False', reason: 'CrashLoopBackOff', message })]));
  });

  it('health gate: a revision none of whose pods became ready within progressDeadlineSeconds fails, and is looked at again when it would', async () => {
    const dc = { ...deploymentConfig(2), spec: { ...deploymentConfig(2).spec, progressDeadlineSeconds: 30 } };
    const { reconciler, published, now } = await setup(dc, [revision(1, 1, 1, 'Complete'), revision(2, 1, 0, 'Running')]);
    now.value = Date.parse('2030-01-01T00:00:27Z');
    expect(await reconciler.reconcile('demo/web')).toEqual({ requeueAfterMs: 3_001 });
    now.value = Date.parse('2030-01-01T00:00:30.001Z');
    await reconciler.reconcile('demo/web');
    expect(announced(published)).toEqual([expect.objectContaining({ type: 'deployment.failed', data: expect.objectContaining({ reason: 'ProgressDeadlineExceeded' }) })]);
  });

  it('cancel: a revision marked cancelled while it rolls out fails as RolloutCancelled, and revision 1 gets every replica back', async () => {
    const rc2 = revision(2, 1, 0, 'Running');
    rc2.metadata.annotations = { ...rc2.metadata.annotations, 'openshift.io/deployment.cancelled': 'true' };
    const { reconciler, replicas, published, rcStore } = await setup(deploymentConfig(2), [revision(1, 1, 1, 'Complete'), rc2]);

    await reconciler.reconcile('demo/web');

    expect(await replicas()).toEqual({ 'web-1': 1, 'web-2': 0 });
    const message = 'the rollout of revision 2 was cancelled; revision 1 serves again';
    expect(announced(published)).toEqual([expect.objectContaining({ type: 'deployment.failed', data: expect.objectContaining({ version: 2, reason: 'RolloutCancelled', message }) })]);
    expect((await rcStore.get('demo', 'web-2')).metadata.annotations).toMatchObject({ 'openshift.io/deployment.phase': 'Failed', 'openshift.io/deployment.status-reason': 'RolloutCancelled' });
  });

  it('updatePeriodSeconds: holds a step until that long after the last scaling and asks to be woken then; stamps each scaling', async () => {
    const base = deploymentConfig(2);
    const dc = { ...base, spec: { ...base.spec, strategy: { ...base.spec.strategy, rollingParams: { ...base.spec.strategy.rollingParams, updatePeriodSeconds: 5 } } } };
    const rc2 = revision(2, 1, 1, 'Running');
    rc2.metadata.annotations = { ...rc2.metadata.annotations, 'paas.dev/deployment.scaled-at': '2030-01-01T00:00:58.000Z' };
    const { reconciler, replicas, now, rcStore } = await setup(dc, [revision(1, 1, 1, 'Complete'), rc2]);

    expect(await reconciler.reconcile('demo/web')).toEqual({ requeueAfterMs: 3_001 });
    expect(await replicas()).toEqual({ 'web-1': 1, 'web-2': 1 });
    now.value = Date.parse('2030-01-01T00:01:03.001Z');
    await reconciler.reconcile('demo/web');
    expect(await replicas()).toEqual({ 'web-1': 0, 'web-2': 1 });
    expect((await rcStore.get('demo', 'web-1')).metadata.annotations?.['paas.dev/deployment.scaled-at']).toBe('2030-01-01T00:01:03.001Z');
  });

  it('minReadySeconds: a new pod counts once Ready that long; until then revision 1 keeps its pod, and the DC is looked at again when it counts', async () => {
    const dc = { ...deploymentConfig(2), spec: { ...deploymentConfig(2).spec, minReadySeconds: 20 } };
    const [rc1, rc2] = [revision(1, 1, 1, 'Complete'), revision(2, 1, 1, 'Running')];
    const pods = [runningPod(rc1, 'web-1-a', 'c1', 40001, true), runningPod(rc2, 'web-2-a', 'c2', 40002, true, '2030-01-01T00:00:41.000Z')];
    const { reconciler, replicas, now } = await setup(dc, [rc1, rc2], pods);

    expect(await reconciler.reconcile('demo/web')).toEqual({ requeueAfterMs: 1_001 });
    expect(await replicas()).toEqual({ 'web-1': 1, 'web-2': 1 });

    now.value = Date.parse('2030-01-01T00:01:01.001Z');
    await reconciler.reconcile('demo/web');
    expect(await replicas()).toEqual({ 'web-1': 0, 'web-2': 1 });
  });

  it('health gate: a first revision reached only after its deadline (a busy control plane) is scaled up, and its deadline counts from then', async () => {
    const dc = { ...deploymentConfig(1, 2), spec: { ...deploymentConfig(1, 2).spec, progressDeadlineSeconds: 30 } };
    const { reconciler, published, rcStore, replicas, now } = await setup(dc, [revision(1, 0, 0, 'Pending')]);
    now.value = Date.parse('2030-01-01T00:05:00Z');
    await reconciler.reconcile('demo/web');
    expect(announced(published)).toEqual([]);
    expect(await replicas()).toEqual({ 'web-1': 2 });
    expect((await rcStore.get('demo', 'web-1')).metadata.annotations).toMatchObject({ 'paas.dev/deployment.scaled-up-at': '2030-01-01T00:05:00.000Z' });
    now.value = Date.parse('2030-01-01T00:05:30Z');
    await reconciler.reconcile('demo/web');
    expect(announced(published)).toEqual([]);
    now.value = Date.parse('2030-01-01T00:05:30.001Z');
    await reconciler.reconcile('demo/web');
    expect(announced(published)).toEqual([expect.objectContaining({ type: 'deployment.failed', data: expect.objectContaining({ reason: 'ProgressDeadlineExceeded' }) })]);
  });

  it('starts a revision that has no RC yet (a moved image tag, or a crash after the DC write) in one write: Pending, at its first step, announced', async () => {
    const { reconciler, rcStore, published, rolloutLogs, replicas } = await setup(deploymentConfig(2, 2), [revision(1, 2, 2, 'Complete')]);
    await reconciler.reconcile('demo/web');
    // maxSurge 1, maxUnavailable 0: one new pod beside the two old ones.
    expect(await replicas()).toEqual({ 'web-1': 2, 'web-2': 1 });
    const started = await rcStore.get('demo', 'web-2');
    expect(started.metadata.resourceVersion).toBe('1');
    expect(started.metadata.annotations).toMatchObject({ 'openshift.io/deployment.phase': 'Running', 'paas.dev/deployment.scaled-up-at': '2030-01-01T00:01:00.000Z' });
    expect(published.map((event) => event.id)).toEqual(['deployment.triggered:uid-web:2', `deployment.scaled:${started.metadata.uid}:1`]);
    expect(rolloutLogs.texts(started.metadata.uid)).toEqual(["--> Scaling up web-2 from 0 to 2, scaling down web-1 from 2 to 0 (keep 2 pods available, don't exceed 3 pods)", '    Scaling web-2 up to 1']);
  });

  it('starts a first revision at every replica, and one whose pre hook must run first at none', async () => {
    const first = await setup(deploymentConfig(1, 3), []);
    await first.reconciler.reconcile('demo/web');
    expect(await first.replicas()).toEqual({ 'web-1': 3 });

    const dc = deploymentConfig(1, 3);
    const hooked = { ...dc, spec: { ...dc.spec, strategy: { ...dc.spec.strategy, rollingParams: { ...dc.spec.strategy.rollingParams, pre: { failurePolicy: 'Abort', execNewPod: { command: ['true'] } } } } } } as DeploymentConfig;
    const held = await setup(hooked, []);
    await held.reconciler.reconcile('demo/web');
    expect(await held.replicas()).toEqual({ 'web-1': 0 });
  });

  it('deletes the RCs of a deleted DC (their changes have them reconciled, and their pods go)', async () => {
    const { log, reconciler, dcs } = await setup(deploymentConfig(2), [revision(1, 0, 0, 'Complete'), revision(2, 1, 1, 'Complete')]);
    await dcs.delete('demo', 'web');
    await reconciler.reconcile('demo/web');
    expect(announced(log)).toEqual(['delete ReplicationController web-1', 'delete ReplicationController web-2']);
  });

  it('revisionHistoryLimit: deletes the old RCs beyond the limit that have no pod left, and no other', async () => {
    const dc = { ...deploymentConfig(5), spec: { ...deploymentConfig(5).spec, revisionHistoryLimit: 2 } };
    const stopping = revision(2, 0, 0, 'Complete', 1);
    const { log, reconciler, replicas } = await setup(dc, [revision(1, 0, 0, 'Complete'), stopping, revision(3, 0, 0, 'Failed'), revision(4, 0, 0, 'Complete'), revision(5, 1, 1, 'Complete')]);

    await reconciler.reconcile('demo/web');

    // 4 and 3 are the two kept; 2 still has a pod stopping; 1 goes.
    expect(announced(log)).toEqual(['delete ReplicationController web-1']);
    expect(await replicas()).toEqual({ 'web-2': 0, 'web-3': 0, 'web-4': 0, 'web-5': 1 });
  });

  it('revisionHistoryLimit 0 during a rollout: keeps the new revision and the last Complete one, which serves, and deletes the rest', async () => {
    const dc = { ...deploymentConfig(4), spec: { ...deploymentConfig(4).spec, revisionHistoryLimit: 0 } };
    const { log, reconciler, replicas } = await setup(dc, [revision(1, 0, 0, 'Complete'), revision(2, 1, 1, 'Complete'), revision(3, 0, 0, 'Failed'), revision(4, 1, 0, 'Running')]);

    await reconciler.reconcile('demo/web');

    expect(announced(log)).toEqual(['delete ReplicationController web-3', 'delete ReplicationController web-1']);
    expect(await replicas()).toEqual({ 'web-2': 1, 'web-4': 1 });
  });

  it('revisionHistoryLimit 0 during a Recreate: keeps the last Complete RC though scaled to 0, and rolls back to it when the new one crash-loops', async () => {
    const base = deploymentConfig(3);
    const dc: DeploymentConfig = { ...base, spec: { ...base.spec, revisionHistoryLimit: 0, strategy: { ...base.spec.strategy, type: 'Recreate' } } };
    const rc3 = revision(3, 1, 0, 'Running');
    const crashing = runningPod(rc3, 'web-3-a', 'c1', 40001, false);
    crashing.status = { ...crashing.status, reason: 'CrashLoopBackOff', message: 'exited with code 1', restartCount: 2 };
    const { log, reconciler, replicas } = await setup(dc, [revision(1, 0, 0, 'Complete'), revision(2, 0, 0, 'Complete'), rc3], [crashing]);

    await reconciler.reconcile('demo/web');

    expect(announced(log)).toEqual(['publish deployment.failed', 'delete ReplicationController web-1']);
    expect(await replicas()).toEqual({ 'web-2': 1, 'web-3': 0 });
  });

  it('rollout log: each step of revision 2 in its log, from the plan to Success; a complete revision scaled adds nothing', async () => {
    const start = await setup(deploymentConfig(2), [revision(1, 1, 1, 'Complete'), revision(2, 0, 0, 'New')]);
    await start.reconciler.reconcile('demo/web');
    expect(start.rolloutLogs.texts('uid-web-2')).toEqual(["--> Scaling up web-2 from 0 to 1, scaling down web-1 from 1 to 0 (keep 1 pods available, don't exceed 2 pods)", '    Scaling web-2 up to 1']);
    expect(start.rolloutLogs.logs.get('uid-web-2')?.lines[0].time).toBe('2030-01-01T00:01:00.000Z');

    const ready = await setup(deploymentConfig(2), [revision(1, 1, 1, 'Complete'), revision(2, 1, 1, 'Running')]);
    await ready.reconciler.reconcile('demo/web');
    expect(ready.rolloutLogs.texts('uid-web-2')).toEqual(['    Scaling web-1 down to 0']);

    const drained = await setup(deploymentConfig(2), [revision(1, 0, 0, 'Complete'), revision(2, 1, 1, 'Running')]);
    await drained.reconciler.reconcile('demo/web');
    expect(drained.rolloutLogs.texts('uid-web-2')).toEqual(['--> Success']);

    const scaled = await setup(deploymentConfig(2, 3), [revision(1, 0, 0, 'Complete'), revision(2, 1, 1, 'Complete')]);
    await scaled.reconciler.reconcile('demo/web');
    expect(await scaled.replicas()).toEqual({ 'web-1': 0, 'web-2': 3 });
    expect(scaled.rolloutLogs.logs.size).toBe(0);
  });

  it('rollout log: a failed rollout ends with why and the rollback; the logs go with their revision and with the DC', async () => {
    const rc2 = revision(2, 1, 0, 'Running');
    rc2.metadata.annotations = { ...rc2.metadata.annotations, 'openshift.io/deployment.cancelled': 'true' };
    const cancelled = await setup(deploymentConfig(2, 2), [revision(1, 1, 1, 'Complete'), rc2]);
    await cancelled.reconciler.reconcile('demo/web');
    expect(cancelled.rolloutLogs.texts('uid-web-2')).toEqual([
      '    Scaling web-1 up to 2',
      '    Scaling web-2 down to 0',
      '--> Cancelled: the rollout of revision 2 was cancelled; revision 1 serves again',
    ]);
    await cancelled.reconciler.reconcile('demo/web');
    expect(cancelled.rolloutLogs.texts('uid-web-2')).toHaveLength(3);

    const dc = { ...deploymentConfig(3), spec: { ...deploymentConfig(3).spec, revisionHistoryLimit: 0 } };
    const pruned = await setup(dc, [revision(1, 0, 0, 'Complete'), revision(2, 0, 0, 'Complete'), revision(3, 1, 1, 'Complete')]);
    for (const uid of ['uid-web-1', 'uid-web-2', 'uid-web-3']) await pruned.rolloutLogs.append({ uid, namespace: 'demo', deploymentConfig: 'web' }, ['--> Success'], '2030-01-01T00:00:00Z');
    await pruned.reconciler.reconcile('demo/web');
    expect([...pruned.rolloutLogs.logs.keys()]).toEqual(['uid-web-3']);
    await pruned.dcs.delete('demo', 'web');
    await pruned.reconciler.reconcile('demo/web');
    expect(pruned.rolloutLogs.logs.size).toBe(0);
  });

  it('writes nothing when the status it would write is the one stored', async () => {
    const { reconciler, dcs } = await setup(deploymentConfig(1), [revision(1, 1, 1, 'Complete')]);
    await reconciler.reconcile('demo/web');
    const settled = await dcs.get('demo', 'web');
    await reconciler.reconcile('demo/web');
    expect((await dcs.get('demo', 'web')).metadata.resourceVersion).toBe(settled.metadata.resourceVersion);
  });
});
