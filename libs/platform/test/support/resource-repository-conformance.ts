import type { WatchEvent } from '@paas/contracts/watch';
import type { OutboxPublisher } from '../../src/outbox';
import type { AnyResource, OutboxEvent, ResourceStore } from '../../src/resource-repository';

/** A small resource kind for the suite. */
export interface Widget extends AnyResource {
  kind: 'Widget';
  spec: { size: number };
  status: { phase: string };
}

/** What a repository under test is wired to: it records what the repository published and announced. */
export interface Wiring {
  publisher: OutboxPublisher;
  feed: { announce(kind: string, change: WatchEvent<AnyResource>): void };
}

export interface ConformanceTarget {
  /** A fresh repository of Widgets, empty for `namespace`, wired to `wiring`. */
  make(wiring: Wiring): Promise<ResourceStore<Widget>>;
  /** A second repository over the same store as `first`, as another replica has: the same resources, its own process. */
  another(first: ResourceStore<Widget>, wiring: Wiring): Promise<ResourceStore<Widget>>;
  /** A namespace no other test uses. */
  namespace(): string;
}

/**
 * What every ResourceStore must do, run against each implementation (Mongo over FerretDB in
 * an integration spec, the in-memory one in a unit spec), as the registry's blob-store
 * drivers share theirs: a fake that passes this behaves like the real thing where the
 * controllers and use cases can tell.
 */
export function resourceRepositoryConformance(target: ConformanceTarget): void {
  let repo: ResourceStore<Widget>;
  let namespace: string;
  let published: OutboxEvent[];
  let announced: WatchEvent<AnyResource>[];
  let failPublish: boolean;
  let wiring: Wiring;

  beforeEach(async () => {
    published = [];
    announced = [];
    failPublish = false;
    namespace = target.namespace();
    wiring = {
      publisher: {
        publish: async (event) => {
          if (failPublish) throw new Error('bus unavailable');
          published.push(event);
        },
      },
      feed: { announce: (_kind, change) => announced.push(JSON.parse(JSON.stringify(change))) },
    };
    repo = await target.make(wiring);
  });

  const widget = (name: string, size = 1, labels: Record<string, string> = {}) => ({ metadata: { name, namespace, labels }, spec: { size }, status: { phase: 'New' } });
  const grow = (by: number) => (w: Widget) => ({ ...w, spec: { size: w.spec.size + by } });
  const event = (id: string): OutboxEvent => ({ id, type: 'route.changed', data: { namespace, name: 'w', generation: 1, deleted: false } });

  it('creates with server-owned metadata and refuses a taken name', async () => {
    const created = await repo.create(widget('a'));
    expect(created).toMatchObject({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'a', namespace, resourceVersion: '1', generation: 1 }, spec: { size: 1 } });
    expect(created.metadata.uid).toEqual(expect.any(String));
    expect(Date.parse(created.metadata.creationTimestamp)).not.toBeNaN();
    await expect(repo.create(widget('a'))).rejects.toMatchObject({ status: { code: 409, reason: 'AlreadyExists' } });
    expect(await repo.get(namespace, 'a')).toEqual(created);
  });

  it('finds, gets and lists oldest first, by namespace and labels', async () => {
    await repo.create(widget('b', 1, { app: 'x' }));
    await repo.create(widget('a', 1, { app: 'y' }));
    expect(await repo.find(namespace, 'missing')).toBeUndefined();
    await expect(repo.get(namespace, 'missing')).rejects.toMatchObject({ status: { code: 404, reason: 'NotFound' } });
    expect((await repo.list({ namespace })).map((w) => w.metadata.name)).toEqual(['b', 'a']);
    expect((await repo.list({ namespace, labels: { app: 'y' } })).map((w) => w.metadata.name)).toEqual(['a']);
    expect((await repo.list({ namespace: `${namespace}-other` })).length).toBe(0);
  });

  it('pages a list with limit and continue, in list order, a token surviving changes between pages', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await repo.create(widget(name, 1, { app: name === 'c' ? 'other' : 'x' }));
    const names = (page: { items: Widget[] }) => page.items.map((w) => w.metadata.name);
    const first = await repo.listPage({ namespace, labels: { app: 'x' } }, { limit: 2 });
    expect(names(first)).toEqual(['a', 'b']);
    expect(first.continue).toEqual(expect.any(String));
    await repo.delete(namespace, 'b');
    await repo.create(widget('f', 1, { app: 'x' }));
    const second = await repo.listPage({ namespace, labels: { app: 'x' } }, { limit: 2, continue: first.continue });
    expect(names(second)).toEqual(['d', 'e']);
    const last = await repo.listPage({ namespace, labels: { app: 'x' } }, { limit: 2, continue: second.continue });
    expect(last).toEqual({ items: [expect.objectContaining({ metadata: expect.objectContaining({ name: 'f' }) })] });
    expect(names(await repo.listPage({ namespace }, {}))).toEqual(['a', 'c', 'd', 'e', 'f']);
    expect(names(await repo.listPage({ namespace }, { limit: 0 }))).toEqual(['a', 'c', 'd', 'e', 'f']);
  });

  it('answers 400 to a malformed limit or continue token', async () => {
    await repo.create(widget('a'));
    for (const page of [{ limit: -1 }, { limit: 1.5 }, { continue: 'not-a-token' }, { continue: Buffer.from('["a"]').toString('base64url') }]) {
      await expect(repo.listPage({ namespace }, page)).rejects.toMatchObject({ status: { code: 400, reason: 'BadRequest' } });
    }
  });

  it('bumps resourceVersion on every change and generation on spec changes only; no change writes nothing', async () => {
    await repo.create(widget('a'));
    const status = await repo.updateStatus(namespace, 'a', () => ({ phase: 'Ready' }));
    expect(status.metadata).toMatchObject({ resourceVersion: '2', generation: 1 });
    const spec = await repo.update(namespace, 'a', (w) => ({ ...w, spec: { size: 2 } }));
    expect(spec.metadata).toMatchObject({ resourceVersion: '3', generation: 2 });
    expect(await repo.update(namespace, 'a', () => undefined)).toEqual(spec);
    expect(await repo.update(namespace, 'a', (w) => w)).toEqual(spec);
    expect((await repo.get(namespace, 'a')).metadata.resourceVersion).toBe('3');
  });

  it('keeps the server-owned metadata whatever mutate returns', async () => {
    const created = await repo.create(widget('a'));
    const updated = await repo.update(namespace, 'a', (w) => ({ ...w, metadata: { ...w.metadata, uid: 'forged', name: 'b', creationTimestamp: '1970-01-01T00:00:00Z' } }));
    expect(updated.metadata).toMatchObject({ uid: created.metadata.uid, name: 'a', creationTimestamp: created.metadata.creationTimestamp });
  });

  it('answers 409 to a stale resourceVersion and retries a lost race without one', async () => {
    await repo.create(widget('a'));
    await expect(repo.update(namespace, 'a', (w) => w, { resourceVersion: '7' })).rejects.toMatchObject({ status: { code: 409, reason: 'Conflict' } });
    await Promise.all([1, 2, 3, 4].map(() => repo.update(namespace, 'a', (w) => ({ ...w, spec: { size: w.spec.size + 1 } }))));
    expect(await repo.get(namespace, 'a')).toMatchObject({ spec: { size: 5 }, metadata: { resourceVersion: '5' } });
  });

  it('hands out copies: changing what it returned changes nothing stored', async () => {
    const created = await repo.create(widget('a'));
    created.spec.size = 99;
    const read = await repo.get(namespace, 'a');
    read.spec.size = 42;
    expect((await repo.get(namespace, 'a')).spec.size).toBe(1);
  });

  it('deletes, answering the last state at the next version, and frees the name', async () => {
    await repo.create(widget('a'));
    const deleted = await repo.delete(namespace, 'a');
    expect(deleted.metadata).toMatchObject({ name: 'a', resourceVersion: '2' });
    await expect(repo.delete(namespace, 'a')).rejects.toMatchObject({ status: { code: 404 } });
    expect(await repo.find(namespace, 'a')).toBeUndefined();
    const again = await repo.create(widget('a'));
    expect(again.metadata.uid).not.toBe(deleted.metadata.uid);
    // Versions keep rising across re-creation: a client's stale version of the old object never matches the new one.
    expect(again.metadata.resourceVersion).toBe('3');
    await expect(repo.update(namespace, 'a', (w) => w, { resourceVersion: '1' })).rejects.toMatchObject({ status: { code: 409 } });
  });

  it('announces every write with the object as written', async () => {
    await repo.create(widget('a'));
    await repo.updateStatus(namespace, 'a', () => ({ phase: 'Ready' }));
    await repo.update(namespace, 'a', () => undefined);
    await repo.delete(namespace, 'a');
    expect(announced.map((c) => [c.type, c.object.metadata.resourceVersion])).toEqual([
      ['ADDED', '1'],
      ['MODIFIED', '2'],
      ['DELETED', '3'],
    ]);
  });

  it('publishes the events a create, an update and a delete owe, each after its write', async () => {
    await repo.create(widget('a'), { outbox: (w) => [event(`created-${w.metadata.resourceVersion}`)] });
    await repo.update(namespace, 'a', (w) => ({ ...w, spec: { size: 3 } }), { outbox: (w) => [event(`updated-${w.spec.size}`)] });
    await repo.update(namespace, 'a', () => undefined, { outbox: () => [event('nothing changed')] });
    await repo.delete(namespace, 'a', { outbox: (w) => [event(`deleted-${w.spec.size}`)] });
    expect(published.map((e) => e.id)).toEqual(['created-1', 'updated-3', 'deleted-3']);
    expect(await repo.find(namespace, 'a')).toBeUndefined();
  });

  it('keeps the write when its events cannot be published', async () => {
    failPublish = true;
    await repo.create(widget('a'), { outbox: () => [event('owed')] });
    expect(await repo.get(namespace, 'a')).toMatchObject({ metadata: { name: 'a' } });
    expect(published).toEqual([]);
  });

  it('loses no update when two other writers move past the version it read (ABA), and answers 409 to one that named it', async () => {
    const other = await target.another(repo, wiring);
    await repo.create(widget('a'));
    // Between this writer's read (version 1) and its write, another replica writes versions 2 and 3.
    const racedBy = (writer: ResourceStore<Widget>) => {
      let raced = false;
      return async (w: Widget) => {
        if (!raced) {
          raced = true;
          await writer.update(namespace, 'a', grow(1));
          await writer.update(namespace, 'a', grow(1));
        }
        return grow(10)(w);
      };
    };
    const updated = await repo.update(namespace, 'a', racedBy(other));
    expect(updated).toMatchObject({ spec: { size: 13 }, metadata: { resourceVersion: '4' } });
    expect(await other.get(namespace, 'a')).toEqual(updated);
    await expect(repo.update(namespace, 'a', racedBy(other), { resourceVersion: '4' })).rejects.toMatchObject({ status: { code: 409, reason: 'Conflict' } });
    expect(await repo.get(namespace, 'a')).toMatchObject({ spec: { size: 15 }, metadata: { resourceVersion: '6' } });
  });

  it('continues a name\'s versions across deletion and re-creation by another replica', async () => {
    const other = await target.another(repo, wiring);
    await repo.create(widget('a'));
    await repo.update(namespace, 'a', grow(1));
    await other.delete(namespace, 'a');
    expect(await repo.find(namespace, 'a')).toBeUndefined();
    const again = await other.create(widget('a', 7));
    expect(again.metadata.resourceVersion).toBe('4');
    expect(await repo.get(namespace, 'a')).toEqual(again);
    await expect(repo.create(widget('a'))).rejects.toMatchObject({ status: { code: 409, reason: 'AlreadyExists' } });
    expect((await repo.list({ namespace })).map((w) => [w.metadata.name, w.metadata.resourceVersion])).toEqual([['a', '4']]);
  });

  it('reads the newest version through a replica that last saw the name many writes ago', async () => {
    const other = await target.another(repo, wiring);
    await repo.create(widget('a'));
    expect(await other.get(namespace, 'a')).toMatchObject({ metadata: { resourceVersion: '1' } });
    for (let i = 0; i < 25; i++) await repo.update(namespace, 'a', grow(1));
    expect(await other.get(namespace, 'a')).toMatchObject({ spec: { size: 26 }, metadata: { resourceVersion: '26' } });
    await other.update(namespace, 'a', grow(1));
    expect(await repo.get(namespace, 'a')).toMatchObject({ spec: { size: 27 }, metadata: { resourceVersion: '27' } });
  });
}
