import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import type { EventMap, EventType } from '@paas/contracts/events';
import { API_VERSION, type Labels, type ObjectMeta, type OwnerReference } from '@paas/contracts/meta';
import { ApiError } from './api-error';

/**
 * How a resource sits in Mongo: the whole resource as JSON text (annotation keys contain
 * dots, which FerretDB refuses as field names), beside the fields queries need.
 */
export interface StoredResource {
  _id: string;
  namespace: string;
  name: string;
  /** `metadata.resourceVersion` as a number: the optimistic-concurrency check. */
  rv: number;
  /** `key=value` for every label, for equality label selectors. */
  labels: string[];
  doc: string;
  /** Events this resource's writes owe the bus (JSON `OutboxEvent`s), until they are published. */
  outbox?: string[];
}

/**
 * An event recorded in the same single-document write as the change it announces (a
 * transactional outbox without transactions), then published by `flushOutbox`: a crash
 * between the write and the publish delays the event, never loses it. `id` makes the
 * publish idempotent (JetStream drops a second message with the same id).
 */
export interface OutboxEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  data: EventMap[T];
}

export function storedResourceSchema(collection: string): Schema<StoredResource> {
  const schema = new Schema<StoredResource>(
    {
      _id: { type: String, required: true },
      namespace: { type: String, required: true },
      name: { type: String, required: true },
      rv: { type: Number, required: true },
      labels: { type: [String], default: [] },
      doc: { type: String, required: true },
      outbox: { type: [String], default: undefined },
    },
    { collection, versionKey: false, minimize: false },
  );
  schema.index({ namespace: 1, name: 1 }, { unique: true });
  return schema;
}

export interface AnyResource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: unknown;
  status: unknown;
}

export interface NewResource<R extends AnyResource> {
  metadata: { name: string; namespace: string; labels?: Labels; annotations?: Record<string, string>; ownerReferences?: OwnerReference[] };
  spec: R['spec'];
  status: R['status'];
}

const MAX_UPDATE_ATTEMPTS = 10;

/**
 * Kubernetes-style storage for one resource kind: plain objects in and out, 409 on a name
 * taken or a stale resourceVersion, `generation` bumped when `spec` changes, and every
 * write a single-document operation (FerretDB has no transactions).
 */
export class ResourceRepository<R extends AnyResource> {
  constructor(
    private readonly model: Model<StoredResource>,
    readonly kind: R['kind'],
  ) {}

  async create(input: NewResource<R>): Promise<R> {
    const resource = {
      apiVersion: API_VERSION,
      kind: this.kind,
      metadata: {
        ...input.metadata,
        uid: randomUUID(),
        resourceVersion: '1',
        generation: 1,
        creationTimestamp: new Date().toISOString(),
      },
      spec: input.spec,
      status: input.status,
    } as R;
    try {
      await this.model.create(this.toStored(resource));
    } catch (error) {
      if ((error as { code?: number }).code === 11000) throw ApiError.alreadyExists(this.kind, resource.metadata.name);
      throw error;
    }
    return resource;
  }

  async find(namespace: string, name: string): Promise<R | undefined> {
    const stored = await this.model.findOne({ namespace, name }).lean<StoredResource>().exec();
    return stored ? (JSON.parse(stored.doc) as R) : undefined;
  }

  async get(namespace: string, name: string): Promise<R> {
    const resource = await this.find(namespace, name);
    if (!resource) throw ApiError.notFound(this.kind, name);
    return resource;
  }

  /** Oldest first; `namespace` undefined lists every namespace. */
  async list(filter: { namespace?: string; labels?: Labels } = {}): Promise<R[]> {
    const query: Record<string, unknown> = {};
    if (filter.namespace) query.namespace = filter.namespace;
    const terms = Object.entries(filter.labels ?? {}).map(([key, value]) => `${key}=${value}`);
    if (terms.length) query.labels = { $all: terms };
    const stored = await this.model.find(query).lean<StoredResource[]>().exec();
    return stored
      .map((s) => JSON.parse(s.doc) as R)
      .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) || a.metadata.name.localeCompare(b.metadata.name));
  }

  /**
   * Read-modify-write with optimistic concurrency. `mutate` gets a copy and returns the
   * new state (or undefined for no change). With `resourceVersion` a stale caller gets
   * 409; without it, a lost race is retried on fresh state. `outbox` names the events the
   * new state owes the bus: they are stored in the same write (see `flushOutbox`).
   */
  async update(
    namespace: string,
    name: string,
    mutate: (current: R) => R | undefined,
    options: { resourceVersion?: string; outbox?: (next: R) => OutboxEvent[] } = {},
  ): Promise<R> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const current = await this.get(namespace, name);
      if (options.resourceVersion && options.resourceVersion !== current.metadata.resourceVersion) {
        throw ApiError.conflict(this.kind, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      // A JSON round trip, not structuredClone: the copy must stay in this realm for the deep comparisons.
      const next = mutate(JSON.parse(JSON.stringify(current)) as R);
      if (!next || isDeepStrictEqual(next, current)) return current;
      const rv = Number(current.metadata.resourceVersion) + 1;
      next.metadata = {
        ...next.metadata,
        uid: current.metadata.uid,
        name,
        namespace,
        creationTimestamp: current.metadata.creationTimestamp,
        resourceVersion: String(rv),
        generation: current.metadata.generation + (isDeepStrictEqual(next.spec, current.spec) ? 0 : 1),
      };
      const stored = this.toStored(next);
      const events = (options.outbox?.(next) ?? []).map((event) => JSON.stringify(event));
      const result = await this.model
        .updateOne({ _id: current.metadata.uid, rv: rv - 1 }, { $set: { rv, labels: stored.labels, doc: stored.doc }, ...(events.length ? { $push: { outbox: { $each: events } } } : {}) })
        .exec();
      if (result.matchedCount === 1) return next;
      if (options.resourceVersion) throw ApiError.conflict(this.kind, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    throw ApiError.conflict(this.kind, name, 'too many concurrent updates; try again');
  }

  async updateStatus(namespace: string, name: string, mutate: (status: R['status'], resource: R) => R['status']): Promise<R> {
    return this.update(namespace, name, (current) => ({ ...current, status: mutate(current.status, current) }));
  }

  async delete(namespace: string, name: string): Promise<R> {
    const stored = await this.model.findOneAndDelete({ namespace, name }).lean<StoredResource>().exec();
    if (!stored) throw ApiError.notFound(this.kind, name);
    return JSON.parse(stored.doc) as R;
  }

  /**
   * Publishes the events the resource `uid` owes, in the order they were recorded, and
   * forgets each once it is published; answers how many went out. Safe to run twice at
   * once (the bus drops a repeated id).
   */
  async flushOutbox(uid: string, publish: (event: OutboxEvent) => Promise<unknown>): Promise<number> {
    const stored = await this.model.findById(uid, { outbox: 1 }).lean<Pick<StoredResource, 'outbox'>>().exec();
    const pending = stored?.outbox ?? [];
    for (const entry of pending) {
      await publish(JSON.parse(entry) as OutboxEvent);
      await this.model.updateOne({ _id: uid }, { $pullAll: { outbox: [entry] } }).exec();
    }
    return pending.length;
  }

  /** The uids of resources that owe the bus events (a write whose publish did not happen). */
  async withPendingOutbox(): Promise<string[]> {
    const stored = await this.model.find({ 'outbox.0': { $exists: true } }, { _id: 1 }).lean<Pick<StoredResource, '_id'>[]>().exec();
    return stored.map((doc) => doc._id);
  }

  private toStored(resource: R): StoredResource {
    const { uid, namespace, name, resourceVersion, labels } = resource.metadata;
    return {
      _id: uid,
      namespace,
      name,
      rv: Number(resourceVersion),
      labels: Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`),
      doc: JSON.stringify(resource),
    };
  }
}
