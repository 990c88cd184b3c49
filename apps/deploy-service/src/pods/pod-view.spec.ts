import type { Pod } from '@paas/contracts/deployments';
import { replicationController, runningPod } from '../testing/fakes';
import { podView } from './pod-view';

const rc = replicationController(1, 1);
const withStatus = (status: Partial<Pod['status']>, nodeName = 'local'): Pod => {
  const pod = runningPod(rc, 'web-1-aaaaa', 'c7', 40007, true);
  return { ...pod, spec: { ...pod.spec, nodeName }, status: { ...pod.status, ...status } };
};

describe('podView', () => {
  it('shows a running container as running since its start, ready, with its docker:// id', () => {
    const [status] = podView(withStatus({ startTime: '2030-01-01T00:00:02Z' })).status.containerStatuses ?? [];
    expect(status).toEqual({
      name: 'web',
      image: 'registry/demo/web@sha256:1',
      containerID: 'docker://c7',
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: '2030-01-01T00:00:02Z' } },
      lastState: {},
    });
  });

  it('shows a crash loop as kubectl does: waiting CrashLoopBackOff, the last run terminated with its exit code', () => {
    const lastTermination = { exitCode: 137, reason: 'OOMKilled' as const, finishedAt: '2030-01-01T00:00:05Z', containerID: 'docker://c7' };
    const [status] = podView(withStatus({ reason: 'CrashLoopBackOff', message: 'back-off 10 s …', restartCount: 2, lastTermination })).status.containerStatuses ?? [];
    expect(status).toMatchObject({ started: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10 s …' } }, lastState: { terminated: lastTermination } });
  });

  it('shows a pod being created as ContainerCreating, a missing ConfigMap as its reason, and no container for a pod no node took', () => {
    expect(podView(withStatus({ phase: 'Pending' })).status.containerStatuses?.[0].state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(podView(withStatus({ phase: 'Pending', reason: 'CreateContainerConfigError', message: 'configmap "x" not found' })).status.containerStatuses?.[0].state).toEqual({
      waiting: { reason: 'CreateContainerConfigError', message: 'configmap "x" not found' },
    });
    expect(podView(withStatus({ phase: 'Pending', reason: 'Unschedulable' }, '')).status.containerStatuses).toBeUndefined();
  });
});
