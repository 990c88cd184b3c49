import { EVENT_STREAM, EVENT_SUBJECT_PREFIX, eventSubject, type EventType } from '@paas/contracts/events';
import { rpcSubject, type RpcMethod } from '@paas/contracts/rpc';
import { watchSubject } from '@paas/contracts/watch';
import { loadConfig } from './config';

/**
 * The NATS names one platform instance uses. A bus prefix (`PAAS_BUS_PREFIX`) scopes every
 * subject and the stream, so a second instance on the same NATS — an integration test's
 * in-process service, say — never joins the running platform's queue groups or consumers.
 */
export interface BusNames {
  stream: string;
  streamSubjects: string;
  event(type: EventType): string;
  rpc(method: RpcMethod): string;
  /** Core NATS subject of a kind's changes in one namespace (`*` for every namespace): see resource-feed.ts. */
  watch(kind: string, namespace: string): string;
  /** Any subject of the platform's (`paas.…`, wildcards allowed) on this bus. */
  scoped(subject: string): string;
  /** A JetStream object store bucket of the platform's on this bus (its stream is `OBJ_<bucket>`). */
  bucket(name: string): string;
}

export function busNames(prefix = loadConfig().busPrefix): BusNames {
  const scoped = (subject: string) => (prefix ? `${prefix}.${subject}` : subject);
  return {
    stream: prefix ? `${EVENT_STREAM}_${prefix.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}` : EVENT_STREAM,
    streamSubjects: scoped(`${EVENT_SUBJECT_PREFIX}.>`),
    event: (type) => scoped(eventSubject(type)),
    rpc: (method) => scoped(rpcSubject(method)),
    watch: (kind, namespace) => scoped(watchSubject(kind, namespace)),
    scoped,
    bucket: (name) => (prefix ? `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_${name}` : name),
  };
}
