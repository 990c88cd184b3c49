import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { KubeEvent, KubeEventReason, KubeEventType, ObjectReference } from '@paas/contracts/kube-events';
import type { Resource } from '@paas/contracts/meta';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const EVENTS_COLLECTION = 'events';

/** What makes occurrences one Event: the same object, reason and type (Kubernetes' aggregation key, less the message). */
export interface EventRecordSpec {
  involvedObject: ObjectReference;
  reason: KubeEventReason;
  type: KubeEventType;
  source: { component: string };
}

/** What accumulates on it. */
export interface EventRecordStatus {
  /** What the latest occurrence said. */
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  /** The domain event ids of the latest occurrences, oldest first: one delivered again is not counted again. */
  occurrenceIds: string[];
}

/**
 * An Event as the gateway stores it, through the ResourceRepository like any resource: what
 * identifies it as `spec`, what accumulates as `status`. Clients see it in Kubernetes' flat
 * shape (`toKubeEvent`).
 */
export type EventRecord = Resource<'Event', EventRecordSpec, EventRecordStatus>;

@Injectable()
export class EventRepository extends ResourceRepository<EventRecord> {
  constructor(@InjectModel(EVENTS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Event');
  }
}

export function toKubeEvent(record: EventRecord): KubeEvent {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = record.metadata;
  const { involvedObject, reason, type, source } = record.spec;
  const { message, count, firstTimestamp, lastTimestamp } = record.status;
  return {
    apiVersion: record.apiVersion,
    kind: 'Event',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    involvedObject,
    reason,
    message,
    type,
    count,
    firstTimestamp,
    lastTimestamp,
    source,
  };
}
