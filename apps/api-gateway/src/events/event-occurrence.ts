import type { EventEnvelope, EventMap } from '@paas/contracts/events';
import type { KubeEventReason, KubeEventType, ObjectReference, RecordedEventType } from '@paas/contracts/kube-events';
import { CREATE_CONTAINER_CONFIG_ERROR } from '@paas/contracts/config';
import { CRASH_LOOP_BACK_OFF, LIVENESS_PROBE_FAILED, STARTUP_PROBE_FAILED } from '@paas/contracts/deployments';

/** One thing that happened, as an Event records it. */
export interface Occurrence {
  /** The domain event's envelope id: an occurrence is counted once, however often it is delivered. */
  id: string;
  /** When it happened (the envelope's time). */
  time: string;
  involvedObject: ObjectReference;
  reason: KubeEventReason;
  type: KubeEventType;
  message: string;
  source: { component: string };
}

/** Kubernetes caps an Event's message at 1 KiB. */
const MAX_MESSAGE_LENGTH = 1024;

type Described = Pick<Occurrence, 'reason' | 'type' | 'message'> & { kind: string };

/** The mapping table (docs/architecture.md, "Events"): what each domain event says as an Event. */
const DESCRIPTIONS: { [T in RecordedEventType]: (data: EventMap[T]) => Described } = {
  'build.started': (build) => ({ kind: 'Build', type: 'Normal', reason: 'BuildStarted', message: `Build ${build.namespace}/${build.name} is now running` }),
  'build.completed': (build) => ({
    kind: 'Build',
    type: 'Normal',
    reason: 'BuildCompleted',
    message: `Build ${build.namespace}/${build.name} completed successfully: pushed ${build.output.imageStreamTag} as ${build.output.digest}`,
  }),
  'build.failed': (build) =>
    build.reason === 'CancelledBuild'
      ? { kind: 'Build', type: 'Normal', reason: 'BuildCancelled', message: `Build ${build.namespace}/${build.name} was cancelled` }
      : { kind: 'Build', type: 'Warning', reason: 'BuildFailed', message: `Build ${build.namespace}/${build.name} failed: ${build.reason}: ${build.message}` },
  'deployment.triggered': (dc) => ({ kind: 'DeploymentConfig', type: 'Normal', reason: 'DeploymentCreated', message: `Created revision ${dc.version} (${dc.cause})` }),
  'deployment.rolled': (dc) => ({
    kind: 'DeploymentConfig',
    type: 'Normal',
    reason: 'RolloutComplete',
    message: `Revision ${dc.version} rolled out (replication controller ${dc.replicationController})`,
  }),
  'deployment.failed': (dc) => {
    if (dc.reason === 'RolloutCancelled') return { kind: 'DeploymentConfig', type: 'Normal', reason: 'RolloutCancelled', message: `Rollout cancelled: ${dc.message}` };
    // A crash loop reads as RolloutFailed; its message says so and what serves now.
    const reason = dc.reason === 'ProgressDeadlineExceeded' ? 'ProgressDeadlineExceeded' : 'RolloutFailed';
    return { kind: 'DeploymentConfig', type: 'Warning', reason, message: `Revision ${dc.version} failed: ${dc.message}` };
  },
  'deployment.scaled': (dc) => ({
    kind: 'DeploymentConfig',
    type: 'Normal',
    reason: 'ScalingReplicationController',
    message: `Scaled ${dc.to > dc.from ? 'up' : 'down'} replication controller ${dc.replicationController} from ${dc.from} to ${dc.to}`,
  }),
  'pod.changed': (pod) => {
    if (pod.ready) return { kind: 'Pod', type: 'Normal', reason: 'PodReady', message: 'Pod is ready' };
    if (pod.reason === CRASH_LOOP_BACK_OFF) return { kind: 'Pod', type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container: ${pod.message ?? 'it keeps stopping'}` };
    if (pod.reason === 'Unschedulable') return { kind: 'Pod', type: 'Warning', reason: 'FailedScheduling', message: pod.message ?? 'no node can take the pod' };
    if (pod.reason === 'ErrImagePull') return { kind: 'Pod', type: 'Warning', reason: 'Failed', message: `Failed to pull image: ${pod.message ?? 'the registry did not give it'}` };
    if (pod.reason === 'ContainerCreateError' || pod.reason === CREATE_CONTAINER_CONFIG_ERROR) return { kind: 'Pod', type: 'Warning', reason: 'Failed', message: `Error: ${pod.message ?? 'the container could not be created'}` };
    if (pod.reason === LIVENESS_PROBE_FAILED || pod.reason === STARTUP_PROBE_FAILED) {
      return { kind: 'Pod', type: 'Warning', reason: 'Unhealthy', message: pod.message ?? 'a probe failed: the container is restarted' };
    }
    return { kind: 'Pod', type: 'Warning', reason: 'PodNotReady', message: pod.message ? `Readiness probe failed: ${pod.message}` : `Pod is not ready (phase ${pod.phase})` };
  },
  'imagestream.updated': (stream) => ({ kind: 'ImageStream', type: 'Normal', reason: 'ImageTagged', message: `Tag ${stream.tag} set to ${stream.image}` }),
};

/** What a domain event says as an Event; an envelope time that does not parse is taken as `now`. */
export function occurrenceOf<T extends RecordedEventType>(envelope: EventEnvelope<T>, now = Date.now()): Occurrence {
  const { kind, reason, type, message } = DESCRIPTIONS[envelope.type](envelope.data);
  const { namespace, name, uid } = envelope.data;
  const time = Date.parse(envelope.time);
  return {
    id: envelope.id,
    time: new Date(Number.isNaN(time) ? now : time).toISOString(),
    involvedObject: { kind, name, namespace, ...(uid ? { uid } : {}) },
    reason,
    type,
    message: message.slice(0, MAX_MESSAGE_LENGTH),
    source: { component: envelope.source },
  };
}
