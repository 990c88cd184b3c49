import type Docker from 'dockerode';
import type { DockerClient } from './docker-client';
import { DockerNodeImages } from './docker-node-images';
import { canonicalReference, repositoryOf, type NodeImage } from './node-images';

const REG = '10.250.1.1:5000';

/** An engine whose image calls are recorded; `tags` says which image id each tag names now, `answers` what a removal answers. */
function engine(options: { images?: Partial<Docker.ImageInfo>[]; tags?: Record<string, string>; answers?: Record<string, 'removed' | 'absent' | 'in-use'> } = {}) {
  const calls: string[] = [];
  const docker: Pick<DockerClient, 'listImages' | 'listContainers' | 'inspectImage' | 'removeImage' | 'diskUsage'> = {
    listImages: async () => (options.images ?? []) as Docker.ImageInfo[],
    listContainers: async () => [{ ImageID: 'sha256:a' }, { ImageID: 'sha256:b' }] as Docker.ContainerInfo[],
    inspectImage: async (reference) => {
      const id = options.tags?.[reference];
      return id ? ({ Id: id } as Docker.ImageInspectInfo) : undefined;
    },
    removeImage: async (reference) => {
      calls.push(`remove ${reference}`);
      return options.answers?.[reference] ?? 'removed';
    },
    diskUsage: async () => ({ Images: [{ Id: 'sha256:a', Size: 130, SharedSize: 120 }, { Id: 'sha256:b', Size: 50, SharedSize: -1 }] as Docker.ImageInfo[] }),
  };
  return { images: new DockerNodeImages(docker), calls };
}

const image = (references: string[]): NodeImage => ({ id: 'sha256:a', references, labels: {}, createdAt: 0 });

describe('DockerNodeImages', () => {
  it('lists every image with its names (none for a dangling one) and when it was made', async () => {
    const { images } = engine({
      images: [
        { Id: 'sha256:a', RepoTags: [`${REG}/demo/web:latest`], RepoDigests: [`${REG}/demo/web@sha256:d`], Labels: { x: 'y' }, Created: 1_900_000_000 },
        { Id: 'sha256:b', RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'], Labels: null as never, Created: 1_900_000_001 },
      ],
    });
    expect(await images.list()).toEqual([
      { id: 'sha256:a', references: [`${REG}/demo/web:latest`, `${REG}/demo/web@sha256:d`], labels: { x: 'y' }, createdAt: 1_900_000_000_000 },
      { id: 'sha256:b', references: [], labels: {}, createdAt: 1_900_000_001_000 },
    ]);
  });

  it("answers the images of every container, and each image's bytes that no other image shares", async () => {
    const { images } = engine();
    expect(await images.inUse()).toEqual(new Set(['sha256:a', 'sha256:b']));
    expect(await images.uniqueSizes()).toEqual(new Map([['sha256:a', 10], ['sha256:b', 50]]));
  });

  it('removes an image named in one repository by its id alone: a tag a later build took stays with that image', async () => {
    const { images, calls } = engine({ answers: { 'sha256:a': 'in-use' } });
    expect(await images.remove(image([`${REG}/demo/web:latest`, `${REG}/demo/web@sha256:d`]))).toBe('in-use');
    expect(await images.remove(image([]))).toBe('in-use');
    expect(calls).toEqual(['remove sha256:a', 'remove sha256:a']);
  });

  it('removes an image named in several repositories name by name, a tag only while it still names the image, then the image', async () => {
    const references = [`${REG}/demo/web:latest`, `${REG}/demo/api:v1`, `${REG}/demo/web@sha256:d`, `${REG}/demo/api@sha256:d`];
    const { images, calls } = engine({ tags: { [`${REG}/demo/web:latest`]: 'sha256:newer', [`${REG}/demo/api:v1`]: 'sha256:a' }, answers: { 'sha256:a': 'absent' } });
    expect(await images.remove(image(references))).toBe('removed');
    expect(calls).toEqual([`remove ${REG}/demo/api:v1`, `remove ${REG}/demo/web@sha256:d`, `remove ${REG}/demo/api@sha256:d`, 'remove sha256:a']);
  });

  it('stops at a name the engine will not remove: a container uses the image', async () => {
    const references = [`${REG}/demo/web@sha256:d`, `${REG}/demo/api@sha256:d`];
    const { images, calls } = engine({ answers: { [`${REG}/demo/api@sha256:d`]: 'in-use' } });
    expect(await images.remove(image(references))).toBe('in-use');
    expect(calls).toEqual([`remove ${REG}/demo/web@sha256:d`, `remove ${REG}/demo/api@sha256:d`]);
  });
});

describe('image references', () => {
  it('names the repository of a tag or a digest, with a registry port or not', () => {
    expect(repositoryOf(`${REG}/demo/web:v1`)).toBe(`${REG}/demo/web`);
    expect(repositoryOf(`${REG}/demo/web@sha256:d`)).toBe(`${REG}/demo/web`);
    expect(repositoryOf(`${REG}/demo/web`)).toBe(`${REG}/demo/web`);
  });

  it('reads a reference as an engine lists it: latest when untagged, a digest without its tag', () => {
    expect(canonicalReference(`${REG}/demo/web`)).toBe(`${REG}/demo/web:latest`);
    expect(canonicalReference(`${REG}/demo/web:v1`)).toBe(`${REG}/demo/web:v1`);
    expect(canonicalReference(`${REG}/demo/web:v1@sha256:d`)).toBe(`${REG}/demo/web@sha256:d`);
  });
});
