import type { ImageStream } from '@paas/contracts/images';
import type { FollowTagReferences } from './follow-tag-references.usecase';
import type { ImageStreamRepository } from './imagestream.repository';
import { ImageStreamsService } from './imagestreams.service';

describe('ImageStreamsService', () => {
  const created: unknown[] = [];
  const repository = {
    find: async () => undefined,
    create: async (input: unknown) => {
      created.push(input);
      return input as ImageStream;
    },
  };
  const forgotten: string[] = [];
  const registry = { deleteRepository: async (name: string) => void forgotten.push(name) };
  const service = new ImageStreamsService(repository as unknown as ImageStreamRepository, { resolve: async () => undefined } as unknown as FollowTagReferences, registry);
  beforeEach(() => {
    created.length = 0;
    process.env.REGISTRY_HOST = 'registry.test:5000';
  });
  afterEach(() => delete process.env.REGISTRY_HOST);

  it('creates a stream whose status names its repository in the registry, and stores nothing on a dry run', async () => {
    const dryRun = await service.create({ namespace: 'demo', body: { metadata: { name: 'hello' } }, dryRun: true });
    expect(dryRun).toMatchObject({ kind: 'ImageStream', metadata: { name: 'hello', namespace: 'demo' }, status: { dockerImageRepository: 'registry.test:5000/demo/hello', tags: [] } });
    expect(created).toEqual([]);
    await service.create({ namespace: 'demo', body: { metadata: { name: 'hello' } } });
    expect(created).toHaveLength(1);
  });

  it('answers bad input with a 4xx Status naming the field, storing nothing', async () => {
    await expect(service.create({ namespace: 'demo', body: { metadata: { name: 'hello' }, spec: { tags: [{ name: 'bad tag!' }] } } })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [expect.objectContaining({ field: 'spec.tags.0.name' }), expect.anything()] } },
    });
    await expect(service.create({ namespace: 'demo', body: { metadata: { name: 'hello', namespace: 'other' } } })).rejects.toMatchObject({ status: { code: 400 } });
    await expect(service.list({ labelSelector: 'no-equals' })).rejects.toMatchObject({ status: { code: 400 } });
    expect(created).toEqual([]);
  });

  it('forgets the repository of a stream it deletes (its tags, manifests and blob links)', async () => {
    const deleting = new ImageStreamsService(
      { delete: async (_namespace: string, name: string) => ({ metadata: { name } }) } as unknown as ImageStreamRepository,
      {} as FollowTagReferences,
      registry,
    );
    await deleting.delete({ namespace: 'demo', name: 'hello' });
    expect(forgotten).toEqual(['demo/hello']);
  });
});
