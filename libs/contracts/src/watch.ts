/**
 * Changes of stored resources, as Kubernetes' watch reports them: every create, update and
 * delete of a resource is announced on `paas.watch.<kind>.<namespace>` (core NATS, not the
 * event stream) with the whole object after the change. Informers keep their caches with it;
 * `?watch=true` streams and the Kubernetes API will be built on it. Delivery is best effort:
 * a consumer that may have missed changes (a reconnect) lists again.
 */
export const WATCH_SUBJECT_PREFIX = 'paas.watch';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T = unknown> {
  type: WatchEventType;
  object: T;
}

/** Cluster-scoped resources have no namespace; their subject token is this. */
export const CLUSTER_TOKEN = '_';

/** `kind` as the resource's `kind` (`Pod`), `namespace` a namespace, `''` for cluster scope, or `*` for all. */
export function watchSubject(kind: string, namespace: string): string {
  return `${WATCH_SUBJECT_PREFIX}.${kind.toLowerCase()}.${namespace || CLUSTER_TOKEN}`;
}
