import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Namespace } from '@paas/contracts/namespaces';
import { ApiError } from '@paas/platform/api-error';
import type { ResourceStore } from '@paas/platform/resource-repository';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway-settings';
import { NamespaceRepository } from '../namespaces/namespace.repository';
import type { Occurrence } from './event-occurrence';
import { EventRepository, type EventRecord, type EventRecordStatus } from './event.repository';

/**
 * How many occurrence ids an Event remembers. JetStream redelivers within seconds (a nak's
 * backoff, at most 30 s, or an ack wait of 30 s): one delivered again after this many newer
 * occurrences of the same Event would be counted twice.
 */
export const REMEMBERED_OCCURRENCES = 100;
/**
 * An occurrence in a namespace the gateway does not know is retried this long after it
 * happened (the namespace may be recorded just after what caused the event: the gateway
 * records a namespace once its first resource exists), then dropped.
 */
export const NAMESPACE_WAIT_MS = 15_000;
/** Writers of one Event racing: read and write again this often before the bus redelivers. */
const MAX_ATTEMPTS = 5;

export type RecordOutcome = 'recorded' | 'counted-already' | 'expired' | 'no-namespace' | 'namespace-terminating';

/**
 * Records an occurrence as a Kubernetes Event, aggregated as Kubernetes does: occurrences of
 * the same (involvedObject, reason, type) are one Event, named `<object>.<hex of that key>`,
 * whose `count` and `lastTimestamp` move (and `message` becomes the latest) as long as it is
 * kept, that is until the TTL has passed since its last occurrence. Each write is the
 * repository's optimistic update (FerretDB has no atomic conditional update or `$inc`), and
 * the occurrence's id is kept in the same write, so that a redelivered event is not counted
 * again, whichever replica it reaches. Occurrences older than the TTL, and those of a
 * namespace being deleted or gone, are not recorded.
 */
@Injectable()
export class RecordEvent {
  constructor(
    @Inject(EventRepository) private readonly events: ResourceStore<EventRecord>,
    @Inject(NamespaceRepository) private readonly namespaces: Pick<ResourceStore<Namespace>, 'find'>,
    @Inject(GATEWAY_SETTINGS) private readonly settings: Pick<GatewaySettings, 'events'>,
  ) {}

  async execute(occurrence: Occurrence, now = Date.now()): Promise<RecordOutcome> {
    const { namespace } = occurrence.involvedObject;
    const age = now - Date.parse(occurrence.time);
    if (age > this.settings.events.ttlMs) return 'expired';
    const known = await this.namespaces.find(CLUSTER_SCOPE, namespace);
    if (!known) {
      if (age > NAMESPACE_WAIT_MS) return 'no-namespace';
      throw new Error(`namespace "${namespace}" is not recorded (yet): the event is tried again`);
    }
    if (known.status.phase === 'Terminating') return 'namespace-terminating';

    const name = eventName(occurrence);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        const existing = await this.events.find(namespace, name);
        if (!existing) {
          await this.events.create({ metadata: { name, namespace }, spec: specOf(occurrence), status: firstOccurrence(occurrence) });
          return 'recorded';
        }
        let outcome: RecordOutcome = 'counted-already';
        await this.events.update(namespace, name, (current) => {
          const status = withOccurrence(current.status, occurrence, this.settings.events.ttlMs);
          outcome = status ? 'recorded' : 'counted-already';
          return status && { ...current, status };
        });
        return outcome;
      } catch (error) {
        // Created by another writer meanwhile, or removed by the pruner: read it again.
        if (!(error instanceof ApiError && ['AlreadyExists', 'NotFound'].includes(error.status.reason ?? ''))) throw error;
      }
    }
    throw ApiError.conflict('Event', name, 'too many concurrent writers; the event is tried again');
  }
}

/** `<object>.<16 hex digits>`: the same for every occurrence of (involvedObject, reason, type). */
export function eventName(occurrence: Pick<Occurrence, 'involvedObject' | 'reason' | 'type'>): string {
  const { kind, namespace, name, uid } = occurrence.involvedObject;
  const key = [kind, namespace, name, uid ?? '', occurrence.reason, occurrence.type].join('\n');
  return `${name}.${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

function specOf({ involvedObject, reason, type, source }: Occurrence): EventRecord['spec'] {
  return { involvedObject, reason, type, source };
}

function firstOccurrence(occurrence: Occurrence): EventRecordStatus {
  return { message: occurrence.message, count: 1, firstTimestamp: occurrence.time, lastTimestamp: occurrence.time, occurrenceIds: [occurrence.id] };
}

/**
 * The status with `occurrence` counted; undefined when it was counted already. Occurrences
 * may arrive out of order: the timestamps widen to cover it, and the message is the latest
 * one's. One that comes more than the TTL after the last starts the count again (the Event
 * had expired and was only waiting for the pruner).
 */
export function withOccurrence(status: EventRecordStatus, occurrence: Occurrence, ttlMs: number): EventRecordStatus | undefined {
  if (status.occurrenceIds.includes(occurrence.id)) return undefined;
  const at = Date.parse(occurrence.time);
  const last = Date.parse(status.lastTimestamp);
  if (at - last > ttlMs) return firstOccurrence(occurrence);
  return {
    message: at >= last ? occurrence.message : status.message,
    count: status.count + 1,
    firstTimestamp: at < Date.parse(status.firstTimestamp) ? occurrence.time : status.firstTimestamp,
    lastTimestamp: at > last ? occurrence.time : status.lastTimestamp,
    occurrenceIds: [...status.occurrenceIds, occurrence.id].slice(-REMEMBERED_OCCURRENCES),
  };
}
