import type { EventEnvelope, EventMap } from '@paas/contracts/events';
import { RECORDED_EVENT_TYPES, type RecordedEventType } from '@paas/contracts/kube-events';
import { occurrenceOf } from './event-occurrence';

const TIME = '2030-01-01T10:00:00.000Z';
const DIGEST = `sha256:${'a'.repeat(64)}`;

function envelope<T extends RecordedEventType>(type: T, data: EventMap[T], source = 'deploy-service'): EventEnvelope<T> {
  return { id: `${type}:1`, type, source, subject: `${data.namespace}/${data.name}`, time: TIME, data };
}

const key = { namespace: 'demo', uid: 'u-1' };
/** One example of each recorded event, and what it reads as: [kind, type, reason, message]. */
const TABLE: { [T in RecordedEventType]: [EventMap[T], [string, string, string, string]] } = {
  'build.started': [{ ...key, name: 'app-1', buildConfig: 'app' }, ['Build', 'Normal', 'BuildStarted', 'Build demo/app-1 is now running']],
  'build.completed': [
    { ...key, name: 'app-1', buildConfig: 'app', output: { imageStreamTag: 'app:latest', digest: DIGEST, dockerImageReference: `r:5000/demo/app@${DIGEST}` } },
    ['Build', 'Normal', 'BuildCompleted', `Build demo/app-1 completed successfully: pushed app:latest as ${DIGEST}`],
  ],
  'build.failed': [
    { ...key, name: 'app-1', buildConfig: 'app', reason: 'AssembleFailed', message: 'assemble exited with 1' },
    ['Build', 'Warning', 'BuildFailed', 'Build demo/app-1 failed: AssembleFailed: assemble exited with 1'],
  ],
  'deployment.triggered': [{ ...key, name: 'web', version: 2, cause: 'image change' }, ['DeploymentConfig', 'Normal', 'DeploymentCreated', 'Created revision 2 (image change)']],
  'deployment.rolled': [{ ...key, name: 'web', version: 2, replicationController: 'web-2' }, ['DeploymentConfig', 'Normal', 'RolloutComplete', 'Revision 2 rolled out (replication controller web-2)']],
  'deployment.failed': [
    { ...key, name: 'web', version: 2, reason: 'ProgressDeadlineExceeded', message: 'revision 2 did not become ready within 600s' },
    ['DeploymentConfig', 'Warning', 'ProgressDeadlineExceeded', 'Revision 2 failed: revision 2 did not become ready within 600s'],
  ],
  'deployment.scaled': [
    { ...key, name: 'web', replicationController: 'web-2', from: 0, to: 2 },
    ['DeploymentConfig', 'Normal', 'ScalingReplicationController', 'Scaled up replication controller web-2 from 0 to 2'],
  ],
  'pod.changed': [{ ...key, name: 'web-2-abcde', phase: 'Running', ready: true }, ['Pod', 'Normal', 'PodReady', 'Pod is ready']],
  'imagestream.updated': [
    { ...key, name: 'app', tag: 'latest', image: DIGEST, dockerImageReference: `r:5000/demo/app@${DIGEST}`, generation: 3 },
    ['ImageStream', 'Normal', 'ImageTagged', `Tag latest set to ${DIGEST}`],
  ],
};

describe('occurrenceOf', () => {
  it.each(RECORDED_EVENT_TYPES)('reads %s as its Event', (type) => {
    const [data, [kind, eventType, reason, message]] = TABLE[type];
    expect(occurrenceOf(envelope(type, data as never))).toEqual({
      id: `${type}:1`,
      time: TIME,
      involvedObject: { kind, name: data.name, namespace: 'demo', uid: 'u-1' },
      type: eventType,
      reason,
      message,
      source: { component: 'deploy-service' },
    });
  });

  it('says why a pod is not ready, and calls any other rollout failure RolloutFailed', () => {
    const notReady = occurrenceOf(envelope('pod.changed', { namespace: 'demo', name: 'web-2-abcde', phase: 'Running', ready: false, message: 'GET http://127.0.0.1:40001/ failed 3 times' }));
    expect([notReady.type, notReady.reason, notReady.message]).toEqual(['Warning', 'PodNotReady', 'Readiness probe failed: GET http://127.0.0.1:40001/ failed 3 times']);
    expect(notReady.involvedObject).toEqual({ kind: 'Pod', name: 'web-2-abcde', namespace: 'demo' });
    expect(occurrenceOf(envelope('pod.changed', { namespace: 'demo', name: 'p', phase: 'Pending', ready: false })).message).toBe('Pod is not ready (phase Pending)');
    expect(occurrenceOf(envelope('deployment.failed', { namespace: 'demo', name: 'web', version: 3, reason: 'Cancelled', message: 'x' })).reason).toBe('RolloutFailed');
    const cancelled = occurrenceOf(envelope('deployment.failed', { namespace: 'demo', name: 'web', version: 3, reason: 'RolloutCancelled', message: 'the rollout of revision 3 was cancelled; revision 2 serves again' }));
    expect([cancelled.type, cancelled.reason, cancelled.message]).toEqual(['Normal', 'RolloutCancelled', 'Rollout cancelled: the rollout of revision 3 was cancelled; revision 2 serves again']);
  });

  it('calls a cancelled build a Normal BuildCancelled, not a failure', () => {
    const cancelled = occurrenceOf(envelope('build.failed', { namespace: 'demo', name: 'app-2', buildConfig: 'app', reason: 'CancelledBuild', message: 'The build was cancelled by the user.' }));
    expect([cancelled.type, cancelled.reason, cancelled.message]).toEqual(['Normal', 'BuildCancelled', 'Build demo/app-2 was cancelled']);
  });

  it('calls a pod waiting after its container stopped again BackOff, with why', () => {
    const crashing = occurrenceOf(envelope('pod.changed', { namespace: 'demo', name: 'web-2-abcde', phase: 'Running', ready: false, reason: 'CrashLoopBackOff', message: 'exited with code 3' }));
    expect([crashing.type, crashing.reason, crashing.message]).toEqual(['Warning', 'BackOff', 'Back-off restarting failed container: exited with code 3']);
  });

  it.each([
    ['LivenessProbeFailed', 'liveness probe GET http://172.18.0.2:8080/healthz failed 3 times in a row: the container is restarted'],
    ['StartupProbeFailed', 'startup probe exec cat /tmp/started failed 30 times in a row: the container is restarted'],
  ])('calls a pod whose container failed its liveness or startup probe Unhealthy, with what failed: %s', (reason, message) => {
    const unhealthy = occurrenceOf(envelope('pod.changed', { namespace: 'demo', name: 'web-2-abcde', phase: 'Running', ready: false, reason, message }));
    expect([unhealthy.type, unhealthy.reason, unhealthy.message]).toEqual(['Warning', 'Unhealthy', message]);
  });

  it.each([
    ['Unschedulable', 'every Ready node is cordoned', 'FailedScheduling', 'every Ready node is cordoned'],
    ['ErrImagePull', 'pulling r/demo/web@sha256:1 failed: manifest unknown', 'Failed', 'Failed to pull image: pulling r/demo/web@sha256:1 failed: manifest unknown'],
    ['ContainerCreateError', 'node node-1 is not registered', 'Failed', 'Error: node node-1 is not registered'],
  ])('calls a pod that waits for a node or an image a Warning in Kubernetes words: %s', (why, message, reason, said) => {
    const waiting = occurrenceOf(envelope('pod.changed', { namespace: 'demo', name: 'web-2-abcde', phase: 'Pending', ready: false, reason: why, message }));
    expect([waiting.type, waiting.reason, waiting.message]).toEqual(['Warning', reason, said]);
  });

  it('cuts a message to 1 KiB and takes an envelope time that does not parse as now', () => {
    const long = occurrenceOf({ ...envelope('build.failed', { namespace: 'demo', name: 'app-1', buildConfig: 'app', reason: 'AssembleFailed', message: 'x'.repeat(5000) }), time: 'yesterday' }, Date.parse('2030-02-02T00:00:00Z'));
    expect(long.message).toHaveLength(1024);
    expect(long.time).toBe('2030-02-02T00:00:00.000Z');
  });
});
