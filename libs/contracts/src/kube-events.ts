import type { EventType } from './events';
import { API_VERSION, type FieldSelectorTerm, type ObjectMeta } from './meta';

/**
 * Kubernetes `Event` objects (core v1): what happened to an object, how often, and when first
 * and last. The api-gateway records them from the domain events (docs/architecture.md,
 * "Events") and serves them read-only at `/api/v1/namespaces/{ns}/events`.
 */

export const KUBE_EVENT_TYPES = ['Normal', 'Warning'] as const;
export type KubeEventType = (typeof KUBE_EVENT_TYPES)[number];

/** The reasons the platform records. */
export const KUBE_EVENT_REASONS = [
  'BuildStarted',
  'BuildCompleted',
  'BuildFailed',
  'BuildCancelled',
  'DeploymentCreated',
  'RolloutComplete',
  'RolloutFailed',
  'ProgressDeadlineExceeded',
  'RolloutCancelled',
  'ScalingReplicationController',
  'PodReady',
  'PodNotReady',
  'BackOff',
  'Unhealthy',
  'FailedScheduling',
  'Failed',
  'ImageTagged',
] as const;
export type KubeEventReason = (typeof KUBE_EVENT_REASONS)[number];

/** The object an event is about. */
export interface ObjectReference {
  kind: string;
  name: string;
  namespace: string;
  /** Absent when the event that reported it did not say (an older publisher). */
  uid?: string;
}

export interface KubeEvent {
  apiVersion: typeof API_VERSION;
  kind: 'Event';
  /** `name` is `<involvedObject.name>.<hex>`. */
  metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid' | 'resourceVersion' | 'creationTimestamp'>;
  involvedObject: ObjectReference;
  reason: KubeEventReason;
  /** What the latest occurrence said. */
  message: string;
  type: KubeEventType;
  /** Occurrences aggregated into this object. */
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  /** The service that reported it. */
  source: { component: string };
}

/** What `?fieldSelector=` may name on events (Kubernetes' own field labels for them), with how to read each. */
export const KUBE_EVENT_FIELDS: Record<string, (event: KubeEvent) => string | undefined> = {
  'metadata.name': (event) => event.metadata.name,
  'metadata.namespace': (event) => event.metadata.namespace,
  'involvedObject.kind': (event) => event.involvedObject.kind,
  'involvedObject.name': (event) => event.involvedObject.name,
  'involvedObject.namespace': (event) => event.involvedObject.namespace,
  'involvedObject.uid': (event) => event.involvedObject.uid,
  reason: (event) => event.reason,
  type: (event) => event.type,
  source: (event) => event.source.component,
};

/** Whether `event` matches every term (`field=value` / `field!=value`; an absent field is the empty string). */
export function matchesEventFields(event: KubeEvent, terms: readonly FieldSelectorTerm[]): boolean {
  return terms.every(({ field, operator, value }) => ((KUBE_EVENT_FIELDS[field]?.(event) ?? '') === value) === (operator === '='));
}

/** The domain events the api-gateway records as Kubernetes Events: it consumes them (bus-roles.ts). */
export const RECORDED_EVENT_TYPES = [
  'build.started',
  'build.completed',
  'build.failed',
  'deployment.triggered',
  'deployment.rolled',
  'deployment.failed',
  'deployment.scaled',
  'pod.changed',
  'imagestream.updated',
] as const satisfies readonly EventType[];
export type RecordedEventType = (typeof RECORDED_EVENT_TYPES)[number];
