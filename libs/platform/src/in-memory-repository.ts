import { API_VERSION, matchesLabels } from '@paas/contracts/meta';
import type { WatchEvent } from '@paas/contracts/watch';
import { ApiError } from './api-error';
import { byListOrder, pageOf, type ListPage, type PageRequest } from './list-page';
import type { OutboxPublisher } from './outbox';
import { nextVersion, type AnyResource, type ListFilter, type Mutate, type NewResource, type Outbox, type OutboxEvent, type ResourceStore, type UpdateOptions } from './resource-repository';

export interface InMemoryRepositoryOptions {
  /** Milliseconds for `creationTimestamp`; default a clock that moves one second per create (ordered, repeatable). */
  now?: () => number;
  /** Where the events of each write's outbox go; without one they stay in `owed`. */
  publisher?: OutboxPublisher;
  /** Told of every write, as the ResourceFeed is. */
  feed?: { announce(kind: string, change: WatchEvent<AnyResource>): void };
  /** Told of every create and delete (`create Pod web-1-abcde`), for tests that assert what a controller did. */
  log?: string[];
  /** Stores into the same resources as this one, as a second replica shares a collection. */
  sharing?: InMemoryResourceRepository<AnyResource>;
}

/** What repositories sharing one store share. */
interface Stored<R> {
  items: Map<string, R>;
  /** The last version of each name, deleted ones included: a re-created name continues from it. */
  versions: Map<string, number>;
  uids: number;
}

const CONFLICT_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/**
 * A ResourceStore in memory for unit tests, with the Mongo repository's semantics, proven by
 * the same conformance suite (libs/platform/test/support/resource-repository-conformance.ts):
 * 409 on a taken name or a stale version, generation on spec change, oldest first, copies in
 * and out, the outbox published after each write, and reads and writes that yield to the
 * event loop, so that concurrent writers interleave as they do against a real server.
 */
export class InMemoryResourceRepository<R extends AnyResource> implements ResourceStore<R> {
  private readonly stored: Stored<R>;
  /** Events a write owed that no publisher took (none wired, or it failed). */
  readonly owed: OutboxEvent[] = [];
  private readonly now: () => number;
  private clock = Date.parse('2030-01-01T00:00:00Z');

  constructor(
    readonly kind: R['kind'],
    private readonly options: InMemoryRepositoryOptions = {},
  ) {
    this.now = options.now ?? (() => (this.clock += 1000));
    this.stored = (options.sharing?.stored as Stored<R> | undefined) ?? { items: new Map(), versions: new Map(), uids: 0 };
  }

  private get items(): Map<string, R> {
    return this.stored.items;
  }

  private get versions(): Map<string, number> {
    return this.stored.versions;
  }

  async create(input: NewResource<R>, options: { outbox?: Outbox<R> } = {}): Promise<R> {
    await yieldOnce();
    const key = keyOf(input.metadata.namespace, input.metadata.name);
    if (this.items.has(key)) throw ApiError.alreadyExists(this.kind, input.metadata.name);
    const resource = {
      apiVersion: API_VERSION,
      kind: this.kind,
      metadata: {
        ...copy(input.metadata),
        uid: `uid-${input.metadata.name}-${++this.stored.uids}`,
        resourceVersion: String((this.versions.get(key) ?? 0) + 1),
        generation: 1,
        creationTimestamp: new Date(this.now()).toISOString(),
      },
      spec: copy(input.spec),
      status: copy(input.status),
    } as R;
    this.store(key, resource);
    this.options.log?.push(`create ${this.kind} ${input.metadata.name}`);
    await this.afterWrite('ADDED', resource, options.outbox?.(resource) ?? []);
    return copy(resource);
  }

  /** Puts a fully formed resource in place, as if stored earlier: no events owed, but caches watching the feed hear of it. */
  seed(resource: R): R {
    this.store(keyOf(resource.metadata.namespace, resource.metadata.name), resource);
    this.options.feed?.announce(this.kind, { type: 'MODIFIED', object: copy(resource) });
    return resource;
  }

  private store(key: string, resource: R) {
    this.items.set(key, copy(resource));
    this.versions.set(key, Number(resource.metadata.resourceVersion));
  }

  async find(namespace: string, name: string): Promise<R | undefined> {
    await yieldOnce();
    const item = this.items.get(keyOf(namespace, name));
    return item && copy(item);
  }

  async get(namespace: string, name: string): Promise<R> {
    const item = await this.find(namespace, name);
    if (!item) throw ApiError.notFound(this.kind, name);
    return item;
  }

  async list(filter: ListFilter = {}): Promise<R[]> {
    await yieldOnce();
    return [...this.items.values()]
      .filter((r) => (!filter.namespace || r.metadata.namespace === filter.namespace) && matchesLabels(r.metadata.labels, filter.labels ?? {}))
      .sort(byListOrder)
      .map(copy);
  }

  async listPage(filter: ListFilter, page: PageRequest): Promise<ListPage<R>> {
    return pageOf(await this.list(filter), page);
  }

  async update(namespace: string, name: string, mutate: Mutate<R>, options: UpdateOptions<R> = {}): Promise<R> {
    for (;;) {
      const current = await this.get(namespace, name);
      if (options.resourceVersion && options.resourceVersion !== current.metadata.resourceVersion) throw ApiError.conflict(this.kind, name, CONFLICT_MESSAGE);
      const next = await nextVersion(current, mutate);
      if (!next) return current;
      await yieldOnce();
      const stored = this.items.get(keyOf(namespace, name));
      if (stored?.metadata.uid !== current.metadata.uid || stored.metadata.resourceVersion !== current.metadata.resourceVersion) {
        if (options.resourceVersion || !stored) throw stored ? ApiError.conflict(this.kind, name, CONFLICT_MESSAGE) : ApiError.notFound(this.kind, name);
        continue;
      }
      this.store(keyOf(namespace, name), next);
      await this.afterWrite('MODIFIED', next, options.outbox?.(next) ?? []);
      return copy(next);
    }
  }

  async updateStatus(namespace: string, name: string, mutate: (status: R['status'], resource: R) => R['status']): Promise<R> {
    return this.update(namespace, name, (current) => ({ ...current, status: mutate(current.status, current) }));
  }

  async delete(namespace: string, name: string, options: { outbox?: Outbox<R> } = {}): Promise<R> {
    const current = await this.get(namespace, name);
    this.items.delete(keyOf(namespace, name));
    const last = { ...current, metadata: { ...current.metadata, resourceVersion: String(Number(current.metadata.resourceVersion) + 1) } };
    this.versions.set(keyOf(namespace, name), Number(last.metadata.resourceVersion));
    this.options.log?.push(`delete ${this.kind} ${name}`);
    await this.afterWrite('DELETED', last, options.outbox?.(current) ?? []);
    return last;
  }

  private async afterWrite(type: WatchEvent['type'], resource: R, events: OutboxEvent[]) {
    this.options.feed?.announce(this.kind, { type, object: copy(resource) });
    for (const event of events) {
      try {
        if (!this.options.publisher) throw new Error('no publisher');
        await this.options.publisher.publish(event);
      } catch {
        this.owed.push(event);
      }
    }
  }
}

/**
 * The ResourceFeed of unit tests: what repositories announce reaches the informers watching
 * at once, as the real feed delivers a process's own changes.
 */
export class InMemoryFeed {
  private readonly listeners = new Map<string, Set<(change: WatchEvent) => void>>();

  announce(kind: string, change: WatchEvent<AnyResource>): void {
    for (const listener of this.listeners.get(kind) ?? []) listener(copy(change));
  }

  watch<T>(kind: string, listener: (change: WatchEvent<T>) => void): () => void {
    const listeners = this.listeners.get(kind) ?? new Set();
    this.listeners.set(kind, listeners);
    listeners.add(listener as (change: WatchEvent) => void);
    return () => listeners.delete(listener as (change: WatchEvent) => void);
  }

  /** Nothing is ever missed in memory. */
  live(): boolean {
    return true;
  }
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

const yieldOnce = () => new Promise<void>((resolve) => setImmediate(resolve));
