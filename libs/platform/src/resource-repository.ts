import { Inject, Logger, Optional } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import type { EventMap, EventType } from '@paas/contracts/events';
import { API_VERSION, type Labels, type ObjectMeta, type OwnerReference } from '@paas/contracts/meta';
import type { WatchEventType } from '@paas/contracts/watch';
import { ApiError } from './api-error';
import { byListOrder, pageOf, type ListPage, type PageRequest } from './list-page';
import { OUTBOX_PUBLISHER, type OutboxPublisher } from './outbox';
import { ResourceFeed } from './resource-feed';

/**
 * One version of a resource as it sits in Mongo: the whole resource as JSON text (annotation
 * keys contain dots, which FerretDB refuses as field names), beside the fields queries need.
 *
 * Every write inserts a new version, `_id` = `<namespace>/<name>@<resourceVersion>`, and the
 * newest version is the resource. Optimistic concurrency rests on the uniqueness of `_id`
 * alone, because FerretDB 1.24 applies a conditional update (`updateOne({_id, rv})`) and even
 * `$inc` without isolation: of several concurrent writers every one "matches". Of several
 * inserts of one `_id`, exactly one succeeds, on FerretDB and MongoDB alike. Older versions
 * are removed after each write (once the events they owe are out); a deletion is a version
 * too (a tombstone), kept for `TOMBSTONE_RETENTION_MS` so that the name's versions keep
 * rising across deletion and re-creation.
 */
export interface StoredResource {
  /** `<namespace>/<name>@<rv>` (documents written before versioning have the uid). */
  _id: string;
  namespace: string;
  name: string;
  /** `metadata.resourceVersion` as a number. */
  rv: number;
  /** `key=value` for every label, for equality label selectors. */
  labels: string[];
  doc: string;
  /** Events this version's write owes the bus (JSON `OutboxEvent`s), until they are published. */
  outbox?: string[];
  /** This version is the resource's deletion. */
  deleted?: boolean;
  /** When the deletion was written (ms since the epoch). */
  deletedAt?: number;
}

/**
 * An event recorded in the same single-document write as the change it announces (a
 * transactional outbox without transactions), published right after the write and, if the
 * writer dies first, by the OutboxRelay: a crash delays the event, never loses it. `id`
 * makes the publish idempotent (JetStream drops a second message with the same id).
 */
export interface OutboxEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  data: EventMap[T];
}

/** The domain events a write owes, computed from the resource as written (or, for a delete, as it was last). */
export type Outbox<R> = (resource: R) => OutboxEvent[];

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
      deleted: { type: Boolean, default: undefined },
      deletedAt: { type: Number, default: undefined },
    },
    { collection, versionKey: false, minimize: false },
  );
  schema.index({ namespace: 1, name: 1, rv: -1 });
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

export interface ListFilter {
  /** Undefined: every namespace. */
  namespace?: string;
  labels?: Labels;
}

export interface UpdateOptions<R> {
  /** The version the caller read: a stale one is a 409 instead of a retry on fresh state. */
  resourceVersion?: string;
  outbox?: Outbox<R>;
}

/**
 * What use cases and controllers need of stored resources of one kind. The Mongo repository
 * below and the in-memory one of the unit tests (in-memory-repository.ts) both pass
 * the same conformance suite.
 */
export interface ResourceStore<R extends AnyResource> {
  readonly kind: R['kind'];
  create(input: NewResource<R>, options?: { outbox?: Outbox<R> }): Promise<R>;
  find(namespace: string, name: string): Promise<R | undefined>;
  get(namespace: string, name: string): Promise<R>;
  /** Oldest first (ties by namespace, then name). */
  list(filter?: ListFilter): Promise<R[]>;
  /** One page of `list`: `limit` items at most, and a `continue` token for the next page if there is one (a malformed token or limit is a 400). */
  listPage(filter: ListFilter, page: PageRequest): Promise<ListPage<R>>;
  /**
   * Read-modify-write with optimistic concurrency. `mutate` gets a copy and returns the new
   * state (or undefined for no change). With `resourceVersion` a stale caller gets 409;
   * without it, a lost race is retried on fresh state.
   */
  update(namespace: string, name: string, mutate: (current: R) => R | undefined, options?: UpdateOptions<R>): Promise<R>;
  updateStatus(namespace: string, name: string, mutate: (status: R['status'], resource: R) => R['status']): Promise<R>;
  delete(namespace: string, name: string, options?: { outbox?: Outbox<R> }): Promise<R>;
}

const MAX_UPDATE_ATTEMPTS = 10;
const CONFLICT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';
/** How long a deletion is remembered, so that a name re-created meanwhile continues its versions. */
export const TOMBSTONE_RETENTION_MS = 60 * 60_000;
/** The unique index of the layout before versions: several versions of one name cannot sit under it. */
const LEGACY_UNIQUE_INDEX = 'namespace_1_name_1';
const DUPLICATE_KEY = 11000;

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === DUPLICATE_KEY;

/**
 * Kubernetes-style storage for one resource kind in Mongo: plain objects in and out, 409 on
 * a name taken or a stale resourceVersion, `generation` bumped when `spec` changes, and
 * every write one insert of a new version (see StoredResource: the only atomic operation
 * FerretDB offers). Each write is announced on the ResourceFeed (informers, watch) and
 * publishes the events it owes through its outbox; both are wired by Nest and absent in a
 * bare `new` (tests).
 */
export class ResourceRepository<R extends AnyResource> implements ResourceStore<R> {
  private readonly logger: Logger;
  @Optional() @Inject(ResourceFeed) protected feed?: ResourceFeed;
  @Optional() @Inject(OUTBOX_PUBLISHER) protected publisher?: OutboxPublisher;
  private layout?: Promise<void>;

  constructor(
    private readonly model: Model<StoredResource>,
    readonly kind: R['kind'],
  ) {
    this.logger = new Logger(`${kind}Repository`);
  }

  async create(input: NewResource<R>, options: { outbox?: Outbox<R> } = {}): Promise<R> {
    const { namespace, name } = input.metadata;
    const previous = await this.latest(namespace, name);
    if (previous && !previous.deleted) throw ApiError.alreadyExists(this.kind, name);
    const rv = (previous?.rv ?? 0) + 1;
    const resource = {
      apiVersion: API_VERSION,
      kind: this.kind,
      metadata: { ...input.metadata, uid: randomUUID(), resourceVersion: String(rv), generation: 1, creationTimestamp: new Date().toISOString() },
      spec: input.spec,
      status: input.status,
    } as R;
    const events = options.outbox?.(resource) ?? [];
    if (!(await this.insertVersion(resource, events))) throw ApiError.alreadyExists(this.kind, name);
    await this.afterWrite('ADDED', resource, events);
    return resource;
  }

  async find(namespace: string, name: string): Promise<R | undefined> {
    const stored = await this.latest(namespace, name);
    return stored && !stored.deleted ? (JSON.parse(stored.doc) as R) : undefined;
  }

  async get(namespace: string, name: string): Promise<R> {
    const resource = await this.find(namespace, name);
    if (!resource) throw ApiError.notFound(this.kind, name);
    return resource;
  }

  async list(filter: ListFilter = {}): Promise<R[]> {
    const stored = await this.model.find(filter.namespace ? { namespace: filter.namespace } : {}).lean<StoredResource[]>().exec();
    // Labels are matched on the newest version only: an older one may carry labels since removed.
    const terms = Object.entries(filter.labels ?? {}).map(([key, value]) => `${key}=${value}`);
    return [...newestVersions(stored).values()]
      .filter((version) => !version.deleted && terms.every((term) => version.labels.includes(term)))
      .map((version) => JSON.parse(version.doc) as R)
      .sort(byListOrder);
  }

  async listPage(filter: ListFilter, page: PageRequest): Promise<ListPage<R>> {
    return pageOf(await this.list(filter), page);
  }

  async update(namespace: string, name: string, mutate: (current: R) => R | undefined, options: UpdateOptions<R> = {}): Promise<R> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const current = await this.get(namespace, name);
      if (options.resourceVersion && options.resourceVersion !== current.metadata.resourceVersion) {
        throw ApiError.conflict(this.kind, name, CONFLICT_MESSAGE);
      }
      const next = nextVersion(current, mutate);
      if (!next) return current;
      const events = options.outbox?.(next) ?? [];
      if (await this.insertVersion(next, events)) {
        await this.afterWrite('MODIFIED', next, events);
        return next;
      }
      if (options.resourceVersion) throw ApiError.conflict(this.kind, name, CONFLICT_MESSAGE);
    }
    throw ApiError.conflict(this.kind, name, 'too many concurrent updates; try again');
  }

  async updateStatus(namespace: string, name: string, mutate: (status: R['status'], resource: R) => R['status']): Promise<R> {
    return this.update(namespace, name, (current) => ({ ...current, status: mutate(current.status, current) }));
  }

  /** Deletes the resource by writing its deletion as the newest version; answers its last state at that version. */
  async delete(namespace: string, name: string, options: { outbox?: Outbox<R> } = {}): Promise<R> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const current = await this.get(namespace, name);
      const last = { ...current, metadata: { ...current.metadata, resourceVersion: String(Number(current.metadata.resourceVersion) + 1) } };
      const events = options.outbox?.(current) ?? [];
      if (await this.insertVersion(last, events, { deleted: true, deletedAt: Date.now() })) {
        await this.afterWrite('DELETED', last, events);
        return last;
      }
    }
    throw ApiError.conflict(this.kind, name, 'too many concurrent updates; try again');
  }

  /**
   * What the OutboxRelay runs: publishes every event a write recorded but did not send (its
   * writer died, or NATS was down), in order, removes the versions that are then superseded,
   * and deletions older than their retention; answers how many events went out. Safe to run
   * in several replicas at once (the bus drops a repeated id).
   */
  async sweep(): Promise<number> {
    const owed = await this.model.find({ 'outbox.0': { $exists: true } }).sort({ rv: 1 }).lean<StoredResource[]>().exec();
    let published = 0;
    for (const version of owed) {
      const events = (version.outbox ?? []).map((entry) => JSON.parse(entry) as OutboxEvent);
      await this.publishOwed(version._id, events);
      await this.removeSuperseded(version.namespace, version.name);
      published += events.length;
    }
    await this.model.deleteMany({ deleted: true, deletedAt: { $lt: Date.now() - TOMBSTONE_RETENTION_MS }, 'outbox.0': { $exists: false } }).exec();
    return published;
  }

  private latest(namespace: string, name: string): Promise<StoredResource | null> {
    return this.model.findOne({ namespace, name }).sort({ rv: -1 }).lean<StoredResource>().exec();
  }

  /** Inserts `resource` as its version; false when that version exists already (another writer won). */
  private async insertVersion(resource: R, events: OutboxEvent[], deletion: Pick<StoredResource, 'deleted' | 'deletedAt'> = {}): Promise<boolean> {
    await this.migrateLayout();
    const { namespace, name, resourceVersion, labels } = resource.metadata;
    const version: StoredResource = {
      _id: `${namespace}/${name}@${resourceVersion}`,
      namespace,
      name,
      rv: Number(resourceVersion),
      labels: Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`),
      doc: JSON.stringify(resource),
      ...(events.length ? { outbox: events.map((event) => JSON.stringify(event)) } : {}),
      ...deletion,
    };
    try {
      await this.model.create(version);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  private async afterWrite(type: WatchEventType, resource: R, events: OutboxEvent[]): Promise<void> {
    const { namespace, name, resourceVersion } = resource.metadata;
    this.feed?.announce(this.kind, { type, object: resource });
    // Published right away; if that fails the relay sends them later, so the write still stands.
    await this.publishOwed(`${namespace}/${name}@${resourceVersion}`, events).catch((error: Error) =>
      this.logger.warn({ msg: `events of ${this.kind} ${namespace}/${name} left for the relay: ${error.message}` }),
    );
    await this.removeSuperseded(namespace, name);
  }

  private async publishOwed(versionId: string, events: OutboxEvent[]): Promise<void> {
    if (!events.length) return;
    if (!this.publisher) throw new Error('no event publisher is wired to this repository');
    for (const event of events) await this.publisher.publish(event);
    await this.model.updateOne({ _id: versionId }, { $unset: { outbox: 1 } }).exec();
  }

  /** Older versions go once they owe nothing (an outbox only ever shrinks, so reading it empty is final). */
  private async removeSuperseded(namespace: string, name: string): Promise<void> {
    const newest = await this.latest(namespace, name);
    if (newest) await this.model.deleteMany({ namespace, name, rv: { $lt: newest.rv }, 'outbox.0': { $exists: false } }).exec();
  }

  /** Drops the unique index of the layout before versions (once per process; absent is fine). */
  private migrateLayout(): Promise<void> {
    this.layout ??= this.model.collection.dropIndex(LEGACY_UNIQUE_INDEX).then(
      () => this.logger.log({ msg: `dropped the unique index ${LEGACY_UNIQUE_INDEX}: resources are stored as versions now` }),
      () => undefined,
    );
    return this.layout;
  }
}

/**
 * What `mutate` makes of a copy of `current`, as the next version: the server-owned metadata
 * kept, resourceVersion up by one, generation up when `spec` changed; undefined for no change.
 */
export function nextVersion<R extends AnyResource>(current: R, mutate: (copy: R) => R | undefined): R | undefined {
  // A JSON round trip, not structuredClone: the copy must stay in this realm for the deep comparisons.
  const next = mutate(JSON.parse(JSON.stringify(current)) as R);
  if (!next || isDeepStrictEqual(next, current)) return undefined;
  const { uid, name, namespace, creationTimestamp, resourceVersion, generation } = current.metadata;
  next.metadata = {
    ...next.metadata,
    uid,
    name,
    namespace,
    creationTimestamp,
    resourceVersion: String(Number(resourceVersion) + 1),
    generation: generation + (isDeepStrictEqual(next.spec, current.spec) ? 0 : 1),
  };
  return next;
}

/** The newest version of each name among `versions`. */
function newestVersions(versions: StoredResource[]): Map<string, StoredResource> {
  const newest = new Map<string, StoredResource>();
  for (const version of versions) {
    const key = `${version.namespace}/${version.name}`;
    if ((newest.get(key)?.rv ?? -1) < version.rv) newest.set(key, version);
  }
  return newest;
}
