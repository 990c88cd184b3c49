import type { BuildFailureReason } from './builds';

/**
 * Domain events. Subjects, the stream and durable consumer names are an API: renaming one
 * strands messages in flight. Payloads carry ids and the facts of the change; handlers
 * reload what they need and are idempotent, since JetStream redelivers.
 */
export const EVENT_STREAM = 'PAAS_EVENTS';
export const EVENT_SUBJECT_PREFIX = 'paas.events';

export interface ResourceKey {
  namespace: string;
  name: string;
}

export interface EventMap {
  'build.requested': ResourceKey & { buildConfig: string };
  'build.started': ResourceKey & { buildConfig: string };
  'build.completed': ResourceKey & {
    buildConfig: string;
    /** Where the image went: `<imagestream>:<tag>` and the digest the registry stored. */
    output: { imageStreamTag: string; digest: string; dockerImageReference: string };
  };
  'build.failed': ResourceKey & { buildConfig: string; reason: BuildFailureReason; message: string };
  'image.pushed': { repository: string; tag?: string; digest: string; mediaType: string };
  'imagestream.updated': ResourceKey & {
    tag: string;
    image: string;
    dockerImageReference: string;
    generation: number;
  };
  'deployment.triggered': ResourceKey & { version: number; cause: string };
  'deployment.rolled': ResourceKey & { version: number; replicationController: string };
  'deployment.failed': ResourceKey & { version: number; reason: string; message: string };
  'pod.changed': ResourceKey & { phase: string; ready: boolean };
  'endpoints.changed': ResourceKey & {
    /** Monotonic per Endpoints object: a consumer drops an update older than what it holds. */
    generation: number;
    addresses: { ip: string; port: number; pod: string }[];
  };
  'route.changed': ResourceKey & { generation: number; deleted: boolean };
}

export type EventType = keyof EventMap;

export interface EventEnvelope<T extends EventType = EventType> {
  /** Unique per event; also the JetStream message id, so a re-publish is deduplicated. */
  id: string;
  type: T;
  /** The service that published it. */
  source: string;
  /** `<namespace>/<name>` of the resource the event is about. */
  subject: string;
  time: string;
  data: EventMap[T];
}

export function eventSubject(type: EventType): string {
  return `${EVENT_SUBJECT_PREFIX}.${type}`;
}

/** One durable consumer per (service, event type); replicas of a service share it. */
export function durableName(service: string, type: EventType): string {
  return `${service}--${type.replace(/\./g, '-')}`;
}
