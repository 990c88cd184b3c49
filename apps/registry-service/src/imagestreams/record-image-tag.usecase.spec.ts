import type { ImageStream } from '@paas/contracts/images';
import type { EventMap } from '@paas/contracts/events';
import { ApiError } from '@paas/platform/api-error';
import type { EventBus } from '@paas/platform/events';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import type { ImageStreamRepository } from './imagestream.repository';
import { RecordImageTag } from './record-image-tag.usecase';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

/**
 * ImageStreams in memory with ResourceRepository's semantics: create refuses a taken name,
 * update re-reads and retries when another write got in between its read and its write.
 */
class FakeImageStreams {
  readonly stored = new Map<string, ImageStream>();
  private uid = 0;

  async find(namespace: string, name: string) {
    const found = this.stored.get(`${namespace}/${name}`);
    return found && (JSON.parse(JSON.stringify(found)) as ImageStream);
  }
  async get(namespace: string, name: string) {
    const found = await this.find(namespace, name);
    if (!found) throw ApiError.notFound('ImageStream', name);
    return found;
  }
  async create(input: Pick<ImageStream, 'spec' | 'status'> & { metadata: { name: string; namespace: string } }) {
    await tick();
    const key = `${input.metadata.namespace}/${input.metadata.name}`;
    if (this.stored.has(key)) throw ApiError.alreadyExists('ImageStream', input.metadata.name);
    const metadata = { ...input.metadata, uid: `uid-${++this.uid}`, resourceVersion: '1', generation: 1, creationTimestamp: 'now' };
    const stream: ImageStream = { apiVersion: 'v1', kind: 'ImageStream', ...input, metadata };
    this.stored.set(key, stream);
    return stream;
  }
  /** Events each stream's writes owe the bus, by uid. */
  readonly outbox = new Map<string, OutboxEvent[]>();

  async update(namespace: string, name: string, mutate: (current: ImageStream) => ImageStream | undefined, options: { outbox?: (next: ImageStream) => OutboxEvent[] } = {}) {
    for (;;) {
      const current = await this.get(namespace, name);
      await tick();
      const next = mutate(JSON.parse(JSON.stringify(current)) as ImageStream);
      if (!next) return current;
      if (this.stored.get(`${namespace}/${name}`)?.metadata.resourceVersion !== current.metadata.resourceVersion) continue;
      next.metadata.resourceVersion = String(Number(current.metadata.resourceVersion) + 1);
      this.stored.set(`${namespace}/${name}`, next);
      const owed = this.outbox.get(next.metadata.uid) ?? [];
      this.outbox.set(next.metadata.uid, [...owed, ...(options.outbox?.(next) ?? [])]);
      return next;
    }
  }
  async flushOutbox(uid: string, publish: (event: OutboxEvent) => Promise<unknown>) {
    const owed = this.outbox.get(uid) ?? [];
    this.outbox.delete(uid);
    for (const event of owed) await publish(event);
    return owed.length;
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RecordImageTag', () => {
  let streams: FakeImageStreams;
  let published: EventMap['imagestream.updated'][];
  let recordTag: RecordImageTag;

  beforeEach(() => {
    process.env.REGISTRY_HOST = 'registry.test:5000';
    streams = new FakeImageStreams();
    published = [];
    const events = { publish: async (_type: string, data: EventMap['imagestream.updated']) => published.push(data) };
    recordTag = new RecordImageTag(streams as unknown as ImageStreamRepository, events as unknown as EventBus);
  });
  afterEach(() => {
    delete process.env.REGISTRY_HOST;
  });

  it('creates a missing stream with the pushed tag and announces it once', async () => {
    await recordTag.execute({ repository: 'demo/hello', tag: 'latest', digest: digest('a') });
    const stream = await streams.get('demo', 'hello');
    expect(stream.status).toEqual({
      dockerImageRepository: 'registry.test:5000/demo/hello',
      tags: [{ tag: 'latest', items: [{ created: expect.any(String), dockerImageReference: `registry.test:5000/demo/hello@${digest('a')}`, image: digest('a'), generation: 1 }] }],
    });
    expect(published).toEqual([{ namespace: 'demo', name: 'hello', tag: 'latest', image: digest('a'), dockerImageReference: `registry.test:5000/demo/hello@${digest('a')}`, generation: 1 }]);
  });

  it('keeps the whole history newest first, and a re-push of the current image changes nothing', async () => {
    await recordTag.execute({ repository: 'demo/hello', tag: 'latest', digest: digest('a') });
    await recordTag.execute({ repository: 'demo/hello', tag: 'latest', digest: digest('b') });
    await expect(recordTag.execute({ repository: 'demo/hello', tag: 'latest', digest: digest('b') })).resolves.toBeUndefined();
    await recordTag.execute({ repository: 'demo/hello', tag: 'latest', digest: digest('a') });
    await recordTag.execute({ repository: 'demo/hello', tag: 'v1', digest: digest('a') });

    const { status } = await streams.get('demo', 'hello');
    expect(status.tags.map((t) => [t.tag, t.items.map((i) => i.image)])).toEqual([
      ['latest', [digest('a'), digest('b'), digest('a')]],
      ['v1', [digest('a')]],
    ]);
    expect(published.map((e) => `${e.tag}@${e.image}`)).toEqual([`latest@${digest('a')}`, `latest@${digest('b')}`, `latest@${digest('a')}`, `v1@${digest('a')}`]);
  });

  it('loses no push when pushes race, the first one creating the stream', async () => {
    const digests = ['1', '2', '3', '4'].map(digest);
    await Promise.all(digests.map((d) => recordTag.execute({ repository: 'demo/hello', tag: 'latest', digest: d })));
    const { status } = await streams.get('demo', 'hello');
    expect(status.tags[0].items.map((i) => i.image).sort()).toEqual(digests);
    expect(published.map((e) => e.image).sort()).toEqual(digests);
  });

  it('leaves repositories that are no <namespace>/<name> of DNS labels alone', async () => {
    for (const repository of ['hello', 'a/b/c', 'Demo/hello', 'demo/hello_world']) {
      await expect(recordTag.execute({ repository, tag: 'latest', digest: digest('a') })).resolves.toBeUndefined();
    }
    expect(streams.stored.size).toBe(0);
    expect(published).toEqual([]);
  });
});
