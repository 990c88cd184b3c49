import type { WatchEvent } from '@paas/contracts/watch';
import { InMemoryResourceRepository } from './in-memory-repository';
import { eventually } from './testing';
import { Informer, listsFromCache, type ChangeSource } from './informer';
import type { ChangeListener } from './resource-feed';
import type { AnyResource } from './resource-repository';

interface Widget extends AnyResource {
  kind: 'Widget';
  spec: { size: number };
  status: Record<string, never>;
}

/** A feed the test drives: `emit` delivers as NATS would, `gap` as a reconnect does. */
class ScriptedFeed implements ChangeSource {
  listener?: ChangeListener<Widget>;
  gap?: () => void;
  connected = true;
  live() {
    return this.connected;
  }
  watch<T>(_kind: string, listener: ChangeListener<T>, onGap?: () => void) {
    this.listener = listener as unknown as ChangeListener<Widget>;
    this.gap = onGap;
    return () => (this.listener = undefined);
  }
  emit(change: WatchEvent<Widget>) {
    this.listener?.(JSON.parse(JSON.stringify(change)));
  }
}

describe('Informer', () => {
  let feed: ScriptedFeed;
  let repo: InMemoryResourceRepository<Widget>;
  let informer: Informer<Widget>;
  let seen: string[];

  beforeEach(async () => {
    feed = new ScriptedFeed();
    // The repository announces its writes to the feed, as ResourceRepository does through the ResourceFeed.
    repo = new InMemoryResourceRepository<Widget>('Widget', { feed: { announce: (_kind, change) => feed.emit(change as WatchEvent<Widget>) } });
    informer = new Informer<Widget>(repo, feed, { resyncMs: 60_000 });
    seen = [];
    informer.onChange(({ type, object }) => seen.push(`${type} ${object.metadata.name}@${object.metadata.resourceVersion}`));
  });
  afterEach(() => informer.stop());

  const widget = (name: string, namespace = 'a', labels: Record<string, string> = {}) => ({ metadata: { name, namespace, labels }, spec: { size: 1 }, status: {} });

  it('lists at start, then follows creates, updates and deletes', async () => {
    await repo.create(widget('one'));
    await informer.start();
    expect(informer.synced).toBe(true);
    await repo.create(widget('two', 'b', { app: 'x' }));
    await repo.update('a', 'one', (w) => ({ ...w, spec: { size: 2 } }));
    await repo.delete('b', 'two');
    expect(seen).toEqual(['ADDED one@1', 'ADDED two@1', 'MODIFIED one@2', 'DELETED two@1']);
    expect(informer.get('a', 'one')?.spec.size).toBe(2);
    expect(informer.list()).toHaveLength(1);
  });

  it('answers lists by namespace and labels, oldest first', async () => {
    await informer.start();
    await repo.create(widget('z', 'a', { app: 'x' }));
    await repo.create(widget('y', 'a', { app: 'y' }));
    await repo.create(widget('x', 'b', { app: 'x' }));
    expect(informer.list({ namespace: 'a' }).map((w) => w.metadata.name)).toEqual(['z', 'y']);
    expect(informer.list({ labels: { app: 'x' } }).map((w) => w.metadata.name)).toEqual(['z', 'x']);
    expect(informer.list({ namespace: 'c' })).toEqual([]);
  });

  it('drops a change older than what it holds, and a late echo of a deleted object', async () => {
    await informer.start();
    const created = await repo.create(widget('one'));
    const updated = await repo.update('a', 'one', (w) => ({ ...w, spec: { size: 5 } }));
    feed.emit({ type: 'MODIFIED', object: created });
    expect(informer.get('a', 'one')?.metadata.resourceVersion).toBe(updated.metadata.resourceVersion);
    await repo.delete('a', 'one');
    feed.emit({ type: 'MODIFIED', object: updated });
    expect(informer.get('a', 'one')).toBeUndefined();
  });

  it('heals missed changes by listing again after a gap', async () => {
    await informer.start();
    await repo.create(widget('kept'));
    // Changes nobody announced (a writer that died before announcing them).
    repo.seed({ ...(await repo.get('a', 'kept')), spec: { size: 9 }, metadata: { ...(await repo.get('a', 'kept')).metadata, resourceVersion: '7' } });
    await repo.create(widget('quiet'));
    await repo.delete('a', 'quiet');
    repo.seed({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'unseen', namespace: 'a', uid: 'u1', resourceVersion: '1', generation: 1, creationTimestamp: '2031-01-01T00:00:00Z' }, spec: { size: 1 }, status: {} });
    feed.gap?.();
    await informer.relist();
    expect(informer.get('a', 'kept')?.spec.size).toBe(9);
    expect(informer.get('a', 'unseen')).toBeDefined();
    expect(informer.list().map((w) => w.metadata.name).sort()).toEqual(['kept', 'unseen']);
  });

  it('keeps trying when its first list fails, without a rejection nobody handles, and syncs once the source answers', async () => {
    await repo.create(widget('one'));
    let failures = 2;
    const source = { kind: 'Widget' as const, list: async () => (failures-- > 0 ? Promise.reject(new Error('owner not available')) : repo.list()) };
    const retrying = new Informer<Widget>(source, feed, { resyncMs: 60_000, retryMs: 10 });
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      await expect(retrying.start()).rejects.toThrow('owner not available');
      await retrying.relist();
      await eventually('the informer to sync', async () => (retrying.synced ? true : undefined), 2_000, 10);
      expect(retrying.get('a', 'one')).toBeDefined();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
      retrying.stop();
    }
  });

  it('hands out frozen objects: a controller cannot change the cache by accident', async () => {
    await informer.start();
    await repo.create(widget('one'));
    const cached = informer.get('a', 'one') as Widget;
    expect(() => {
      cached.spec.size = 3;
    }).toThrow(TypeError);
  });

  describe('lists from the cache', () => {
    /** Lists straight from the repository, counted: what a list costs when the cache cannot answer it. */
    const counted = () => {
      const store = { reads: 0, listPage: (...args: Parameters<typeof repo.listPage>) => (store.reads++, repo.listPage(...args)) };
      return store;
    };

    it('answers from the cache while it is current, in the store\'s order and pages', async () => {
      const store = counted();
      const lists = listsFromCache(informer, store);
      await informer.start();
      for (const name of ['c', 'a', 'b']) await repo.create(widget(name, 'n', { app: 'x' }));
      await repo.create(widget('other', 'm'));
      const first = await lists.listPage({ namespace: 'n', labels: { app: 'x' } }, { limit: 2 });
      const rest = await lists.listPage({ namespace: 'n', labels: { app: 'x' } }, { limit: 2, continue: first.continue });
      expect(store.reads).toBe(0);
      expect([...first.items, ...rest.items]).toEqual(await repo.list({ namespace: 'n' }));
      expect(rest.continue).toBeUndefined();
    });

    it('reads the store before its first list, while it lists again after a gap, and while the feed is down', async () => {
      const store = counted();
      const lists = listsFromCache(informer, store);
      await repo.create(widget('one'));
      await lists.listPage({}, {});
      expect(store.reads).toBe(1);

      await informer.start();
      feed.connected = false;
      // Written while this process hears nothing: only the store has it.
      repo.seed({ apiVersion: 'v1', kind: 'Widget', metadata: { name: 'unseen', namespace: 'a', uid: 'u2', resourceVersion: '1', generation: 1, creationTimestamp: '2031-01-01T00:00:00Z' }, spec: { size: 1 }, status: {} });
      expect((await lists.listPage({}, {})).items.map((w) => w.metadata.name)).toEqual(['one', 'unseen']);
      expect(store.reads).toBe(2);

      feed.connected = true;
      feed.gap?.();
      expect(informer.current).toBe(false);
      await lists.listPage({}, {});
      expect(store.reads).toBe(3);
      await informer.relist();
      expect(informer.current).toBe(true);
      expect((await lists.listPage({}, {})).items.map((w) => w.metadata.name)).toEqual(['one', 'unseen']);
      expect(store.reads).toBe(3);
    });
  });
});
