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
 * How a resource kind sits in its Mongo collection. FerretDB 1.24 (SQLite) filters only `_id`
 * equality inside SQLite: any other filter is applied after reading every document (100 ms
 * at 1000 documents against 2.4 ms for an `_id` hit and 8 ms for a miss,
 * `scripts/experiments/ferretdb-pushdown.mjs`), so every read a write needs goes by `_id`,
 * and only `list`, the relay's `sweep` and a process's first use (`migrate`) read everything.
 *
 * - **Versions.** Every write inserts a new version, `_id` = `<namespace>/<name>@<rv>`, and
 *   the newest is the resource. Optimistic concurrency rests on the uniqueness of `_id`
 *   alone, because FerretDB applies a conditional update (`updateOne({_id, rv})`) and even
 *   `$inc` without isolation: of several concurrent writers every one "matches". Of several
 *   inserts of one `_id`, exactly one succeeds, on FerretDB and MongoDB alike. A deletion is a
 *   version too (a tombstone), kept for `TOMBSTONE_RETENTION_MS` so that the name's versions
 *   keep rising across deletion and re-creation.
 * - **Markers.** Once version n+1 is written, version n is emptied into a marker (its `doc`
 *   and `labels` dropped, its `outbox` kept while it owes events) rather than deleted: it
 *   keeps `@n` taken, so a writer that read n-1 before two other writes cannot insert `@n`
 *   again and have its update silently lost under n+1 (it gets the duplicate key: a retry,
 *   or 409). The sweep deletes markers after `MARKER_RETENTION_MS`, from the bottom up.
 * - **Heads.** One per name, `_id` = `<namespace>/<name>`: the name exists (or existed) and
 *   its versions form the contiguous range [`floor`, newest]. The sweep raises `floor` before
 *   deleting what is below it, so a reader walking `@floor`, `@floor+1`, … by `_id` finds the
 *   newest at the first miss; one that finds `@floor` missing reads the head again.
 * - **Seals.** Removing a name whose tombstone expired takes its next version first (a seal at
 *   `@tombstone+1`): no writer can then add to it, and the versions and the head go safely.
 */
export type StoredResource = StoredVersion | StoredMarker | StoredHead | StoredSeal;

interface StoredVersionKey {
  /** `<namespace>/<name>@<rv>` (documents written before versioning have the uid until migrated). */
  _id: string;
  namespace: string;
  name: string;
  /** `metadata.resourceVersion` as a number. */
  rv: number;
  /** Events this version's write owes the bus (JSON `OutboxEvent`s), until they are published. */
  outbox?: string[];
}

/** One version of a resource: the whole resource as JSON text (annotation keys contain dots, which FerretDB refuses as field names), beside the fields queries need. */
export interface StoredVersion extends StoredVersionKey {
  /** `key=value` for every label, for equality label selectors. */
  labels: string[];
  doc: string;
  /** This version is the resource's deletion. */
  deleted?: boolean;
  /** When the deletion was written (ms since the epoch). */
  deletedAt?: number;
}

/** A version superseded by a newer one: what it still owes, and its `_id` kept taken. */
export interface StoredMarker extends StoredVersionKey {
  superseded: true;
  /** When it was superseded (ms since the epoch): it goes `MARKER_RETENTION_MS` later. */
  supersededAt: number;
}

/** A name's head: its versions are [`floor`, newest]. */
export interface StoredHead {
  /** `<namespace>/<name>` */
  _id: string;
  head: true;
  namespace: string;
  name: string;
  /** The lowest rv that may still exist; never above the newest. */
  floor: number;
  /** Which life of the name this head is (a seal names the one it ends). */
  uid: string;
}

/** The next version of a name being removed, taken so that no writer adds to it meanwhile. */
export interface StoredSeal extends StoredVersionKey {
  sealed: true;
  sealedAt: number;
  /** The `uid` of the head it ends. */
  headUid: string;
}

/** What sits at a version's `_id`: a version, a marker or a seal. */
type AtVersion = StoredVersion | StoredMarker | StoredSeal;

/** Versions and tombstones, not markers, heads or seals (a projection may leave `doc` out, so this goes by the flags). */
const isVersion = (stored: StoredResource): stored is StoredVersion => !('head' in stored && stored.head) && !('superseded' in stored && stored.superseded) && !('sealed' in stored && stored.sealed);
const isMarker = (stored: StoredResource): stored is StoredMarker => 'superseded' in stored && stored.superseded === true;
const isHead = (stored: StoredResource): stored is StoredHead => 'head' in stored && stored.head === true;
const isSeal = (stored: StoredResource): stored is StoredSeal => 'sealed' in stored && stored.sealed === true;
const owes = (stored: StoredResource): boolean => !isHead(stored) && Boolean(stored.outbox?.length);

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
  // One collection holds all four shapes (see StoredResource); what each requires is checked by the types.
  const schema = new Schema<StoredResource>(
    {
      _id: { type: String, required: true },
      namespace: { type: String, required: true },
      name: { type: String, required: true },
      rv: { type: Number },
      labels: { type: [String], default: undefined },
      doc: { type: String },
      outbox: { type: [String], default: undefined },
      deleted: { type: Boolean, default: undefined },
      deletedAt: { type: Number, default: undefined },
      superseded: { type: Boolean, default: undefined },
      supersededAt: { type: Number, default: undefined },
      head: { type: Boolean, default: undefined },
      floor: { type: Number, default: undefined },
      uid: { type: String, default: undefined },
      sealed: { type: Boolean, default: undefined },
      sealedAt: { type: Number, default: undefined },
      headUid: { type: String, default: undefined },
    },
    { collection, versionKey: false, minimize: false },
  );
  // Kept for MongoDB, which uses it for list and sweep; FerretDB 1.24 does not.
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

/** What `update` makes of the current state: the next state, or undefined for no change. */
export type Mutate<R> = (current: R) => R | undefined | Promise<R | undefined>;

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
   * state (or undefined for no change), or a promise of it (keep it well within
   * MARKER_RETENTION_MS). With `resourceVersion` a stale caller gets 409; without it, a lost
   * race is retried on fresh state.
   */
  update(namespace: string, name: string, mutate: Mutate<R>, options?: UpdateOptions<R>): Promise<R>;
  updateStatus(namespace: string, name: string, mutate: (status: R['status'], resource: R) => R['status']): Promise<R>;
  delete(namespace: string, name: string, options?: { outbox?: Outbox<R> }): Promise<R>;
}

const MAX_UPDATE_ATTEMPTS = 10;
const CONFLICT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';
/**
 * How long a deletion is remembered, so that a name re-created meanwhile continues its versions
 * (a client's resourceVersion of the deleted object then never matches the new one). Every
 * tombstone weighs on each read of the whole collection (the relay's sweep, every 30 s, and
 * `list`): after a namespace of 500 pods went, an hour of them made FerretDB at rest 78 ms/s
 * instead of about 5. Ten minutes outlasts the informers' memory of deleted uids (5 min).
 */
export const TOMBSTONE_RETENTION_MS = 10 * 60_000;
/**
 * How long a superseded version's marker keeps its `_id` taken. A writer that read version n
 * inserts n+1 within one read-modify-write (milliseconds; a mutate that waits on the network,
 * seconds): while `@n+1` stays taken, it cannot insert it after n+1 and n+2 were written, and
 * gets the duplicate key (retry or 409) instead of a lost update. A minute is far beyond that
 * window and still keeps the markers of a busy name few.
 */
export const MARKER_RETENTION_MS = 60_000;
/** How long a create waits for a name being removed (a seal) to be gone, before each retry. */
const SEALED_WAIT_MS = 50;
/** Names whose newest version this process last saw: where its next walk starts. */
const MAX_HINTS = 10_000;
/** The unique index of the layout before versions: several versions of one name cannot sit under it. */
const LEGACY_UNIQUE_INDEX = 'namespace_1_name_1';
const DUPLICATE_KEY = 11000;

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === DUPLICATE_KEY;
const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const versionId = (key: string, rv: number) => `${key}@${rv}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Everything the sweep and the migration look at, without the resources themselves. */
const WITHOUT_RESOURCE = { doc: 0, labels: 0 } as const;

/** What a walk over a name's versions found. */
interface Newest {
  /** The newest version (a tombstone for a deleted name); none for a name without versions. */
  version?: StoredVersion;
  /** The name is being removed (a seal sits above its last version): it reads as absent and a create waits. */
  sealed?: boolean;
}

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
  /** The newest rv this process saw of each name (a hint: the walk checks it), oldest dropped first. */
  private readonly hints = new Map<string, number>();

  constructor(
    private readonly model: Model<StoredResource>,
    readonly kind: R['kind'],
  ) {
    this.logger = new Logger(`${kind}Repository`);
  }

  async create(input: NewResource<R>, options: { outbox?: Outbox<R> } = {}): Promise<R> {
    const { namespace, name } = input.metadata;
    const key = keyOf(namespace, name);
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      let rv = 1;
      // Set when the head has no versions: the create must still find that head after its insert.
      let emptyHead: StoredHead | undefined;
      if (!(await this.insertHead(namespace, name, 1))) {
        const { version, sealed } = await this.latest(namespace, name);
        if (version && !version.deleted) throw ApiError.alreadyExists(this.kind, name);
        if (sealed) {
          await sleep(SEALED_WAIT_MS);
          continue;
        }
        if (version) rv = version.rv + 1;
        else {
          // A head without versions: a create that died between its two inserts.
          emptyHead = (await this.readHead(key)) ?? undefined;
          if (!emptyHead) continue;
          rv = emptyHead.floor;
        }
      }
      const resource = {
        apiVersion: API_VERSION,
        kind: this.kind,
        metadata: { ...input.metadata, uid: randomUUID(), resourceVersion: String(rv), generation: 1, creationTimestamp: new Date().toISOString() },
        spec: input.spec,
        status: input.status,
      } as R;
      const events = options.outbox?.(resource) ?? [];
      // Taken: another create won (the next attempt answers AlreadyExists) or a seal is in the way.
      if (!(await this.insertVersion(resource, events))) continue;
      if (emptyHead && (await this.readHead(key))?.uid !== emptyHead.uid) {
        // The head went (its name was removed) between reading it and the insert: the version is nobody's.
        await this.model.deleteOne({ _id: versionId(key, rv) }).exec();
        continue;
      }
      await this.afterWrite('ADDED', resource, events);
      return resource;
    }
    throw ApiError.conflict(this.kind, name, 'too many concurrent updates; try again');
  }

  async find(namespace: string, name: string): Promise<R | undefined> {
    const { version } = await this.latest(namespace, name);
    return version && !version.deleted ? (JSON.parse(version.doc) as R) : undefined;
  }

  async get(namespace: string, name: string): Promise<R> {
    const resource = await this.find(namespace, name);
    if (!resource) throw ApiError.notFound(this.kind, name);
    return resource;
  }

  async list(filter: ListFilter = {}): Promise<R[]> {
    await this.migrateLayout();
    // Versions only: heads, markers and seals have no `doc` (FerretDB still reads them, but does not send them).
    const query = { ...(filter.namespace ? { namespace: filter.namespace } : {}), doc: { $exists: true } };
    const stored = await this.model.find(query).lean<StoredVersion[]>().exec();
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

  async update(namespace: string, name: string, mutate: Mutate<R>, options: UpdateOptions<R> = {}): Promise<R> {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      // The first try starts from the version this process saw last, read alone (the walk reads
      // the one after it too): the insert of the next proves it the newest, and when it is not,
      // the insert is refused and the next try walks. A resourceVersion asked for is compared
      // with the newest, so that update walks at once.
      const hinted = attempt === 0 && !options.resourceVersion ? await this.atHint(namespace, name) : undefined;
      const current = hinted ?? (await this.get(namespace, name));
      if (options.resourceVersion && options.resourceVersion !== current.metadata.resourceVersion) {
        throw ApiError.conflict(this.kind, name, CONFLICT_MESSAGE);
      }
      let next: R | undefined;
      try {
        next = await nextVersion(current, mutate);
      } catch (error) {
        // A refusal of what may be an older version than the newest: asked again of the newest.
        if (hinted) continue;
        throw error;
      }
      // Nothing to change in the hint's version, which may not be the newest: the answer must be.
      if (!next && hinted) continue;
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
   * writer died, or NATS was down), in order; then, name by name, empties versions a dead
   * writer left unmarked, deletes markers past their retention from the bottom up, and
   * removes names whose deletion is past its retention. Answers how many events went out.
   * Safe to run in several replicas at once (the bus drops a repeated id; see `tidy`).
   * `now` is for tests: the relay passes nothing.
   */
  async sweep(now = Date.now()): Promise<number> {
    await this.migrateLayout();
    // One read of the whole collection (it is one whichever filter), without the resources.
    const stored = await this.model.find({}, WITHOUT_RESOURCE).lean<StoredResource[]>().exec();
    let published = 0;
    let failed: unknown;
    for (const version of stored.filter(owes).sort((a, b) => (a as StoredVersionKey).rv - (b as StoredVersionKey).rv) as StoredVersionKey[]) {
      const events = (version.outbox ?? []).map((entry) => JSON.parse(entry) as OutboxEvent);
      try {
        await this.publishOwed(version._id, events);
      } catch (error) {
        // Nothing more goes out of order; the tidying below still runs (what owes is kept).
        failed = error;
        break;
      }
      delete version.outbox;
      published += events.length;
    }
    for (const group of byName(stored).values()) await this.tidy(group, now);
    if (failed) throw failed;
    return published;
  }

  /**
   * One name's housekeeping, from what the sweep read. Whatever another replica's sweep does
   * meanwhile, each step here is safe: a version is emptied only below a newer one, `floor` is
   * only set to a value below which every version was a removable marker when read (a marker
   * never becomes needed again), so two sweeps racing on the head (an update is not isolated
   * on FerretDB) can at worst set it too low, which readers survive (they fall back to a scan)
   * and the next sweep repairs; a name is removed only by the sweep whose seal insert won.
   */
  private async tidy(group: StoredResource[], now: number): Promise<void> {
    const head = group.find(isHead);
    const versions = group.filter((stored): stored is AtVersion => !isHead(stored)).sort((a, b) => a.rv - b.rv);
    const seal = versions.find(isSeal);
    if (seal) {
      // A removal in progress, or one whose sweep died: finish it once it is surely not running.
      if (seal.sealedAt < now - MARKER_RETENTION_MS) await this.finishRemoval(seal, versions);
      return;
    }
    const live = versions.filter(isVersion);
    const newest = live.at(-1);
    if (!head || !newest) return;
    // A writer died between its insert and emptying the version before.
    for (const version of live.slice(0, -1)) {
      await this.markSuperseded(version._id, now);
      Object.assign(version, { superseded: true, supersededAt: now });
    }
    if (newest.deleted && (newest.deletedAt ?? now) < now - TOMBSTONE_RETENTION_MS && !versions.some(owes)) {
      await this.remove(head, newest, versions, now);
      return;
    }
    // From the bottom of [floor, newest]: markers past their retention that owe nothing.
    const inRange = versions.filter((version) => version.rv >= head.floor);
    let floor = inRange[0]?.rv ?? head.floor;
    for (const version of inRange) {
      if (version.rv !== floor || !isMarker(version) || version.supersededAt >= now - MARKER_RETENTION_MS || owes(version)) break;
      floor++;
    }
    // Below the floor: left by a sweep that died after raising it, or by the layout before heads.
    const gone = versions.filter((version) => version.rv < floor && !owes(version));
    if (floor !== head.floor) await this.model.updateOne({ _id: head._id }, { $set: { floor } }).exec();
    for (const version of gone) await this.model.deleteOne({ _id: version._id }).exec();
  }

  /** Removes a name whose deletion is past its retention: first takes its next version, so nothing is added to it meanwhile. */
  private async remove(head: StoredHead, tombstone: StoredVersion, versions: AtVersion[], now: number): Promise<void> {
    const rv = tombstone.rv + 1;
    const seal: StoredSeal = { _id: versionId(head._id, rv), namespace: head.namespace, name: head.name, rv, sealed: true, sealedAt: now, headUid: head.uid };
    // Taken: the name was re-created (or another sweep is removing it).
    if (!(await this.insertOnce(seal))) return;
    await this.finishRemoval(seal, versions);
  }

  /**
   * Deletes what a seal ends: the versions below it, then the head (only the one it names:
   * after the head is gone, a create may start the name's next life), then the seal.
   */
  private async finishRemoval(seal: StoredSeal, versions: AtVersion[]): Promise<void> {
    const key = keyOf(seal.namespace, seal.name);
    const head = await this.readHead(key);
    if (head?.uid === seal.headUid) {
      const ids = new Set(versions.filter((version) => version.rv < seal.rv).map((version) => version._id));
      for (let rv = head.floor; rv < seal.rv; rv++) ids.add(versionId(key, rv));
      for (const id of ids) await this.model.deleteOne({ _id: id }).exec();
      await this.model.deleteOne({ _id: key }).exec();
    }
    await this.model.deleteOne({ _id: seal._id }).exec();
    this.hints.delete(key);
  }

  /**
   * The newest version of a name, by `_id` reads only: from this process's hint or the head's
   * floor, `@h`, `@h+1`, … up to the first miss. Versions form the range [floor, newest]
   * (the sweep raises the floor before deleting), so the last one found is the newest unless
   * it is a marker (the walk raced the sweep): then, or when `@h` is missing (an old hint, a
   * moved floor), the head is read again and the walk repeated; a scan of the collection is
   * the last resort (a floor a racing sweep set too low, a head whose create died).
   */
  private async latest(namespace: string, name: string): Promise<Newest> {
    await this.migrateLayout();
    const key = keyOf(namespace, name);
    let from = this.hints.get(key);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (from === undefined) {
        const head = await this.readHead(key);
        if (!head) {
          this.hints.delete(key);
          return {};
        }
        from = head.floor;
      }
      const found = await this.walk(key, from);
      if (found) {
        if (found.version) this.remember(key, found.version.rv);
        return found;
      }
      from = undefined;
    }
    this.logger.debug({ msg: `${this.kind} ${key}: no version at its head's floor; reading every version of the name` });
    return this.scan(namespace, name);
  }

  /** The version at this process's hint for the name, when it is stored and live (not a marker, a seal or a deletion). */
  private async atHint(namespace: string, name: string): Promise<R | undefined> {
    await this.migrateLayout();
    const key = keyOf(namespace, name);
    const rv = this.hints.get(key);
    if (rv === undefined) return undefined;
    const stored = await this.model.findById(versionId(key, rv)).lean<AtVersion>().exec();
    return stored && isVersion(stored) && !stored.deleted ? (JSON.parse(stored.doc) as R) : undefined;
  }

  /** Undefined when the walk proved nothing (`@from` missing, or it ended on a marker). */
  private async walk(key: string, from: number): Promise<Newest | undefined> {
    let last: AtVersion | undefined;
    for (let rv = from; ; rv++) {
      const stored = await this.model.findById(versionId(key, rv)).lean<AtVersion>().exec();
      if (!stored) break;
      if (isSeal(stored)) return last && isVersion(last) ? { version: last, sealed: true } : last ? undefined : { sealed: true };
      last = stored;
    }
    return last && isVersion(last) ? { version: last } : undefined;
  }

  /** The last resort of `latest`: every document of the name. */
  private async scan(namespace: string, name: string): Promise<Newest> {
    const stored = await this.model.find({ namespace, name }).lean<StoredResource[]>().exec();
    const version = stored.filter(isVersion).sort((a, b) => a.rv - b.rv).at(-1);
    const sealed = stored.some((other) => isSeal(other) && other.rv > (version?.rv ?? 0));
    if (version && stored.some(isHead)) this.remember(keyOf(namespace, name), version.rv);
    // Versions without a head are nobody's (a create that lost its head while writing).
    return stored.some(isHead) ? { version, sealed } : {};
  }

  private remember(key: string, rv: number): void {
    this.hints.delete(key);
    this.hints.set(key, rv);
    if (this.hints.size > MAX_HINTS) this.hints.delete(this.hints.keys().next().value as string);
  }

  private readHead(key: string): Promise<StoredHead | null> {
    return this.model.findById(key).lean<StoredHead>().exec();
  }

  /** Inserts the head of a name (false when it has one: the name exists or existed). */
  private insertHead(namespace: string, name: string, floor: number): Promise<boolean> {
    return this.insertOnce({ _id: keyOf(namespace, name), head: true, namespace, name, floor, uid: randomUUID() });
  }

  /** Inserts `resource` as its version; false when that version exists already (another writer won). */
  private async insertVersion(resource: R, events: OutboxEvent[], deletion: Pick<StoredVersion, 'deleted' | 'deletedAt'> = {}): Promise<boolean> {
    await this.migrateLayout();
    const { namespace, name, resourceVersion, labels } = resource.metadata;
    return this.insertOnce({
      _id: versionId(keyOf(namespace, name), Number(resourceVersion)),
      namespace,
      name,
      rv: Number(resourceVersion),
      labels: Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`),
      doc: JSON.stringify(resource),
      ...(events.length ? { outbox: events.map((event) => JSON.stringify(event)) } : {}),
      ...deletion,
    });
  }

  /** The one atomic write: false when the `_id` is taken. */
  private async insertOnce(stored: StoredResource): Promise<boolean> {
    try {
      await this.model.create(stored);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  private async afterWrite(type: WatchEventType, resource: R, events: OutboxEvent[]): Promise<void> {
    const { namespace, name, resourceVersion } = resource.metadata;
    const key = keyOf(namespace, name);
    const rv = Number(resourceVersion);
    this.remember(key, rv);
    this.feed?.announce(this.kind, { type, object: resource });
    // Published right away; if that fails the relay sends them later, so the write still stands.
    await this.publishOwed(versionId(key, rv), events).catch((error: Error) =>
      this.logger.warn({ msg: `events of ${this.kind} ${namespace}/${name} left for the relay: ${error.message}` }),
    );
    // Absent for the first version of a name; if this fails, the sweep empties it later.
    if (rv > 1) await this.markSuperseded(versionId(key, rv - 1), Date.now());
  }

  private async publishOwed(id: string, events: OutboxEvent[]): Promise<void> {
    if (!events.length) return;
    if (!this.publisher) throw new Error('no event publisher is wired to this repository');
    for (const event of events) await this.publisher.publish(event);
    await this.model.updateOne({ _id: id }, { $unset: { outbox: 1 } }).exec();
  }

  /**
   * Empties a superseded version into a marker, keeping what it owes. Racing the writer's own
   * `$unset outbox` (not isolated on FerretDB), one of the two may be lost: an outbox published
   * twice (the bus drops the repeated id) or a version emptied by the next sweep instead.
   */
  private async markSuperseded(id: string, now: number): Promise<void> {
    await this.model.updateOne({ _id: id }, { $set: { superseded: true, supersededAt: now }, $unset: { doc: 1, labels: 1, deleted: 1, deletedAt: 1 } }).exec();
  }

  /**
   * Brings a collection written before heads to this layout, once per process before its first
   * read or write: drops the unique index of the layout before versions, moves documents of
   * that layout (`_id` = uid) to their version's `_id`, and gives every name without a head
   * one whose floor starts the contiguous run of versions ending at its newest (versions below,
   * which still owed events, are the sweep's). Idempotent, and safe with replicas doing it at
   * once: every step is an insert that may find its `_id` taken, or a delete.
   */
  private migrateLayout(): Promise<void> {
    this.layout ??= this.migrate().catch((error: unknown) => {
      this.layout = undefined;
      throw error;
    });
    return this.layout;
  }

  private async migrate(): Promise<void> {
    await this.model.collection.dropIndex(LEGACY_UNIQUE_INDEX).then(
      () => this.logger.log({ msg: `dropped the unique index ${LEGACY_UNIQUE_INDEX}: resources are stored as versions now` }),
      () => undefined,
    );
    const stored = await this.model.find({}, WITHOUT_RESOURCE).lean<StoredResource[]>().exec();
    let migrated = 0;
    for (const [key, group] of byName(stored)) {
      if (group.some((other) => isHead(other) || isSeal(other))) continue;
      const versions = group.filter(isVersion).sort((a, b) => a.rv - b.rv);
      for (const legacy of versions.filter((version) => version._id !== versionId(key, version.rv))) {
        const whole = await this.model.findById(legacy._id).lean<StoredVersion>().exec();
        if (whole) await this.insertOnce({ ...whole, _id: versionId(key, whole.rv) });
        await this.model.deleteOne({ _id: legacy._id }).exec();
      }
      const newest = versions.at(-1);
      if (!newest) continue;
      let floor = newest.rv;
      while (versions.some((version) => version.rv === floor - 1)) floor--;
      if (await this.insertHead(newest.namespace, newest.name, floor)) migrated++;
    }
    if (migrated) this.logger.log({ msg: `gave ${migrated} ${this.kind} name(s) written before heads a head` });
  }
}

/**
 * What `mutate` makes of a copy of `current`, as the next version: the server-owned metadata
 * kept, resourceVersion up by one, generation up when `spec` changed; undefined for no change.
 */
export async function nextVersion<R extends AnyResource>(current: R, mutate: Mutate<R>): Promise<R | undefined> {
  // A JSON round trip, not structuredClone: the copy must stay in this realm for the deep comparisons.
  const next = await mutate(JSON.parse(JSON.stringify(current)) as R);
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
function newestVersions(versions: StoredVersion[]): Map<string, StoredVersion> {
  const newest = new Map<string, StoredVersion>();
  for (const version of versions) {
    const key = keyOf(version.namespace, version.name);
    if ((newest.get(key)?.rv ?? -1) < version.rv) newest.set(key, version);
  }
  return newest;
}

/** Documents by `<namespace>/<name>`. */
function byName(stored: StoredResource[]): Map<string, StoredResource[]> {
  const groups = new Map<string, StoredResource[]>();
  for (const one of stored) {
    const key = keyOf(one.namespace, one.name);
    groups.set(key, [...(groups.get(key) ?? []), one]);
  }
  return groups;
}
