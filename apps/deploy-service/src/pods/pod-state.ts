import type { Pod } from '@paas/contracts/deployments';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import { conditionStatus } from '../conditions';

/** Set when a pod is chosen for removal: it leaves Endpoints, drains, then its container stops. */
export const TERMINATING_ANNOTATION = 'paas.dev/terminating-since';

export function isTerminating(pod: Pod): boolean {
  return pod.metadata.annotations?.[TERMINATING_ANNOTATION] !== undefined;
}

export function terminatingSince(pod: Pod): number {
  return Date.parse(pod.metadata.annotations?.[TERMINATING_ANNOTATION] ?? '') || 0;
}

export function isReady(pod: Pod): boolean {
  return !isTerminating(pod) && pod.status.phase === 'Running' && conditionStatus(pod.status.conditions, 'Ready') === 'True';
}

/** The container of a pod on the node: unique per namespace and pod (dots never appear in either name). */
/** Where the routers reach the pod (its one published container port), once it has one. */
export function podAddress(pod: Pod): { ip: string; port: number } | undefined {
  return pod.status.hostPort ? { ip: pod.status.hostIP ?? '127.0.0.1', port: pod.status.hostPort } : undefined;
}

export function containerName(pod: Pod): string {
  return `paas.${pod.metadata.namespace}.${pod.metadata.name}`;
}

/**
 * The pod's readiness as written; when not ready, with why: the pod's own reason when it has
 * one (it waits: Unschedulable, ErrImagePull, CrashLoopBackOff...), else its Ready condition's.
 */
export function podChanged(pod: Pod, ready: boolean): OutboxEvent<'pod.changed'> {
  const { namespace, name, uid, resourceVersion } = pod.metadata;
  const why = ready ? undefined : pod.status.reason ? pod.status : pod.status.conditions.find((condition) => condition.type === 'Ready');
  return {
    id: `pod.changed:${uid}:${resourceVersion}`,
    type: 'pod.changed',
    data: { namespace, name, uid, phase: pod.status.phase, ready, ...(why?.reason ? { reason: why.reason } : {}), ...(why?.message ? { message: why.message } : {}) },
  };
}
