import type { ImageStream } from '@paas/contracts/images';
import type { EventMap } from '@paas/contracts/events';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import { RecordImageTag } from './record-image-tag.usecase';

const digest = (c: string) => `sha256:${c.repeat(64)}`;


describe('RecordImageTag', () => {
  let streams: InMemoryResourceRepository<ImageStream>;
  let published: EventMap['imagestream.updated'][];
  let recordTag: RecordImageTag;

  beforeEach(() => {
    process.env.REGISTRY_HOST = 'registry.test:5000';
    published = [];
    streams = new InMemoryResourceRepository<ImageStream>('ImageStream', {
      publisher: { publish: async (event) => void published.push(event.data as EventMap['imagestream.updated']) },
    });
    recordTag = new RecordImageTag(streams);
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
    expect(published).toEqual([{ namespace: 'demo', name: 'hello', uid: stream.metadata.uid, tag: 'latest', image: digest('a'), dockerImageReference: `registry.test:5000/demo/hello@${digest('a')}`, generation: 1 }]);
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
    expect(await streams.list()).toEqual([]);
    expect(published).toEqual([]);
  });
});
