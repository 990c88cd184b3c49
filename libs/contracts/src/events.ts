import { z } from 'zod';
import { BUILD_FAILURE_REASONS } from './builds';

/**
 * Domain events. Subjects, the stream and durable consumer names are an API: renaming one
 * strands messages in flight. Payloads carry ids and the facts of the change; handlers
 * reload what they need and are idempotent, since JetStream redelivers.
 */
export const EVENT_STREAM = 'PAAS_EVENTS';
export const EVENT_SUBJECT_PREFIX = 'paas.events';

const resourceKey = z.object({ namespace: z.string().min(1), name: z.string().min(1) });
export type ResourceKey = z.infer<typeof resourceKey>;
/**
 * The key and the uid of the object the event is about, for events that are recorded as
 * Kubernetes Events (its `involvedObject`); optional, so that an event published before the
 * uid was added still parses.
 */
const objectKey = resourceKey.extend({ uid: z.string().min(1).optional() });

/** Each event type with the schema its payload is checked against on both ends. */
export const eventSchemas = {
  'build.requested': resourceKey.extend({ buildConfig: z.string() }),
  'build.started': objectKey.extend({ buildConfig: z.string() }),
  'build.completed': objectKey.extend({
    buildConfig: z.string(),
    /** Where the image went: `<imagestream>:<tag>` and the digest the registry stored. */
    output: z.object({ imageStreamTag: z.string(), digest: z.string(), dockerImageReference: z.string() }),
  }),
  'build.failed': objectKey.extend({ buildConfig: z.string(), reason: z.enum(BUILD_FAILURE_REASONS), message: z.string() }),
  'imagestream.updated': objectKey.extend({
    tag: z.string(),
    image: z.string(),
    dockerImageReference: z.string(),
    generation: z.number().int(),
  }),
  'deployment.triggered': objectKey.extend({ version: z.number().int(), cause: z.string() }),
  'deployment.rolled': objectKey.extend({ version: z.number().int(), replicationController: z.string() }),
  'deployment.failed': objectKey.extend({ version: z.number().int(), reason: z.string(), message: z.string() }),
  /** A DC's controller changed the replicas of one of its revisions (a rollout step, a rollback, a scale). */
  'deployment.scaled': objectKey.extend({ replicationController: z.string(), from: z.number().int(), to: z.number().int() }),
  /** `message` says why a pod is not ready (its readiness probe's failures). */
  'pod.changed': objectKey.extend({ phase: z.string(), ready: z.boolean(), reason: z.string().max(128).optional(), message: z.string().max(1024).optional() }),
  'endpoints.changed': resourceKey.extend({
    /** Monotonic per Endpoints object: a consumer drops an update older than what it holds. */
    generation: z.number().int(),
    addresses: z.array(z.object({ ip: z.string(), port: z.number().int(), pod: z.string() })),
  }),
  'route.changed': resourceKey.extend({ generation: z.number().int(), deleted: z.boolean() }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventMap = { [T in EventType]: z.infer<(typeof eventSchemas)[T]> };
export const EVENT_TYPES = Object.keys(eventSchemas) as EventType[];

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
