import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { FilesystemBlobStore } from '../adapters/filesystem-blob-store';
import type { NamespaceQuotas } from '../quota/namespace-quotas';
import { StorageQuota } from '../quota/storage-quota';
import { BlobUploads } from './blob-uploads';
import type { RegistryMetadataRepository } from './registry-metadata.repository';

const digestOf = (content: string) => `sha256:${createHash('sha256').update(content).digest('hex')}`;
const body = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));

/** Only the blob links, which is all uploads (and the quota) touch. */
class FakeMetadata {
  readonly links = new Map<string, number>();
  async namespaceBlobs(namespace: string) {
    const held = new Map<string, number>();
    for (const [key, size] of this.links) if (key.startsWith(`${namespace}/`)) held.set(key.split('@')[1], size);
    return held;
  }
  async linkBlob(repository: string, digest: string, size: number) {
    this.links.set(`${repository}@${digest}`, size);
  }
  async blobLink(repository: string, digest: string) {
    const size = this.links.get(`${repository}@${digest}`);
    return size === undefined ? undefined : { size };
  }
  async linksOf(digest: string) {
    return [...this.links].filter(([key]) => key.endsWith(`@${digest}`)).map(([key, size]) => ({ repository: key.split('@')[0], size }));
  }
}

describe('BlobUploads', () => {
  let root: string;
  let store: FilesystemBlobStore;
  let metadata: FakeMetadata;
  let uploads: BlobUploads;
  /** Every namespace's registry quota, in bytes; undefined: none. */
  let quota: number | undefined;
  const newUploads = () => {
    const fakeMetadata = metadata as unknown as RegistryMetadataRepository;
    const quotas = { quotaOf: async () => quota } as unknown as NamespaceQuotas;
    return new BlobUploads(store, fakeMetadata, { maxBlobBytes: 64 }, new StorageQuota(quotas, fakeMetadata));
  };
  const storedBlobs = () => readdir(path.join(root, 'blobs'), { recursive: true }).catch(() => [] as string[]);

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'uploads-'));
    store = new FilesystemBlobStore(root);
    metadata = new FakeMetadata();
    quota = undefined;
    uploads = newUploads();
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('commits chunks whose whole matches the digest, and links the blob to the repository', async () => {
    const { id } = await uploads.start('ns/app');
    expect(await uploads.append('ns/app', id, body('hello '), 0)).toEqual({ id, size: 6 });
    expect(await uploads.append('ns/app', id, body('wor'), 6)).toEqual({ id, size: 9 });
    expect(await uploads.complete('ns/app', id, digestOf('hello world'), body('ld'))).toEqual({ digest: digestOf('hello world'), size: 11 });
    expect(await store.stat(digestOf('hello world'))).toEqual({ size: 11 });
    expect(metadata.links.get(`ns/app@${digestOf('hello world')}`)).toBe(11);
  });

  it('refuses a wrong digest with DIGEST_INVALID, stores nothing and forgets the upload', async () => {
    const { id } = await uploads.start('ns/app');
    await uploads.append('ns/app', id, body('hello'));
    await expect(uploads.complete('ns/app', id, digestOf('something else'))).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    expect((await storedBlobs()).filter((f) => /[0-9a-f]{64}$/.test(f))).toEqual([]);
    expect(metadata.links.size).toBe(0);
    await expect(uploads.status('ns/app', id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
  });

  it('verifies an upload begun by another replica by reading it back', async () => {
    const { id } = await uploads.start('ns/app');
    await uploads.append('ns/app', id, body('abc'));
    const otherReplica = newUploads();
    await otherReplica.append('ns/app', id, body('def'));
    await expect(otherReplica.complete('ns/app', id, digestOf('abcdef'))).resolves.toEqual({ digest: digestOf('abcdef'), size: 6 });
  });

  it('refuses a second request on an upload while a chunk is still arriving, and commits only the bytes that match the digest', async () => {
    const { id } = await uploads.start('ns/app');
    const slowChunk = new PassThrough();
    const first = uploads.append('ns/app', id, slowChunk, 0);
    await expect(uploads.append('ns/app', id, body('XYZ'), 0)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_INVALID' });
    await expect(uploads.complete('ns/app', id, digestOf('XYZ'), body('XYZ'))).rejects.toMatchObject({ code: 'BLOB_UPLOAD_INVALID' });
    slowChunk.end('abc');
    await expect(first).resolves.toEqual({ id, size: 3 });

    // Once the first is done, a chunk sent for the same offset no longer continues the upload.
    await expect(uploads.append('ns/app', id, body('XYZ'), 0)).rejects.toMatchObject({ code: 'RANGE_INVALID' });
    await expect(uploads.complete('ns/app', id, digestOf('abc'))).resolves.toEqual({ digest: digestOf('abc'), size: 3 });
    expect(await text(await store.read(digestOf('abc')))).toBe('abc');
  });

  it('does not trust its running hash when another replica appended to the upload at the same time', async () => {
    const { id } = await uploads.start('ns/app');
    const slowChunk = new PassThrough();
    const here = uploads.append('ns/app', id, slowChunk, 0);
    await newUploads().append('ns/app', id, body('def'), 0);
    slowChunk.end('abc');
    await expect(here).resolves.toEqual({ id, size: 6 });

    // The file holds both chunks; the hash here saw only "abc".
    await expect(uploads.complete('ns/app', id, digestOf('abc'))).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    expect(await store.stat(digestOf('abc'))).toBeUndefined();
  });

  it('refuses an upload that grows beyond the size limit with SIZE_INVALID and leaves nothing behind', async () => {
    const { id } = await uploads.start('ns/app');
    await uploads.append('ns/app', id, body('x'.repeat(60)));
    await expect(uploads.append('ns/app', id, body('y'.repeat(10)))).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    await expect(uploads.status('ns/app', id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    await expect(uploads.monolithic('ns/app', digestOf('z'.repeat(65)), body('z'.repeat(65)))).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    expect(await readdir(path.join(root, 'uploads'))).toEqual([]);
    expect(metadata.links.size).toBe(0);
  });

  it('leaves nothing behind when a whole blob in one request has the wrong digest', async () => {
    await expect(uploads.monolithic('ns/app', digestOf('other'), body('abc'))).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    expect(await readdir(path.join(root, 'uploads'))).toEqual([]);
  });

  it('accepts a whole blob in one request', async () => {
    await expect(uploads.monolithic('ns/app', digestOf('{}'), body('{}'))).resolves.toEqual({ digest: digestOf('{}'), size: 2 });
  });

  it('keeps an upload to the repository it was started in, and chunks in order', async () => {
    const { id } = await uploads.start('ns/app');
    await expect(uploads.append('other/app', id, body('x'))).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    await expect(uploads.append('ns/app', id, body('x'), 5)).rejects.toMatchObject({ code: 'RANGE_INVALID' });
    await expect(uploads.complete('ns/app', id, undefined)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
  });

  it('mounts a blob only from a repository that holds it', async () => {
    await uploads.monolithic('ns/base', digestOf('layer'), body('layer'));
    await expect(uploads.mount('ns/app', digestOf('layer'), 'ns/elsewhere')).resolves.toBeUndefined();
    await expect(uploads.mount('ns/app', digestOf('layer'), 'ns/base')).resolves.toEqual({ digest: digestOf('layer'), size: 5 });
    expect(metadata.links.has(`ns/app@${digestOf('layer')}`)).toBe(true);
  });

  it('mounts a blob from any repository the caller may pull from that holds it, and from none it may not', async () => {
    await uploads.monolithic('ns/base', digestOf('layer'), body('layer'));
    await expect(uploads.mountFromAny('ns/app', digestOf('layer'), (source) => source !== 'ns/base')).resolves.toBeUndefined();
    await expect(uploads.mountFromAny('ns/app', digestOf('nothing'), () => true)).resolves.toBeUndefined();
    expect(metadata.links.has(`ns/app@${digestOf('layer')}`)).toBe(false);
    await expect(uploads.mountFromAny('ns/app', digestOf('layer'), (source) => source === 'ns/base')).resolves.toEqual({ digest: digestOf('layer'), size: 5 });
    expect(metadata.links.has(`ns/app@${digestOf('layer')}`)).toBe(true);
  });

  describe('under a namespace quota', () => {
    beforeEach(() => (quota = 20));

    it('refuses a blob the namespace has no room left for with DENIED, saying how much is used, and stores nothing', async () => {
      await uploads.monolithic('ns/app', digestOf('a'.repeat(15)), body('a'.repeat(15)));
      const refused = uploads.monolithic('ns/app', digestOf('b'.repeat(10)), body('b'.repeat(10)));
      await expect(refused).rejects.toMatchObject({ code: 'DENIED', status: 403, message: expect.stringContaining('15 B of it used'), detail: { namespace: 'ns', quota: 20, used: 15, size: 10 } });
      expect(await store.stat(digestOf('b'.repeat(10)))).toBeUndefined();
      expect(await readdir(path.join(root, 'uploads'))).toEqual([]);
      // Another namespace has its own quota.
      await expect(uploads.monolithic('other/app', digestOf('b'.repeat(10)), body('b'.repeat(10)))).resolves.toMatchObject({ size: 10 });
    });

    it('counts a blob once per namespace, however many repositories link it', async () => {
      await uploads.monolithic('ns/app', digestOf('a'.repeat(15)), body('a'.repeat(15)));
      await expect(uploads.monolithic('ns/copy', digestOf('a'.repeat(15)), body('a'.repeat(15)))).resolves.toMatchObject({ size: 15 });
      await expect(uploads.mount('ns/third', digestOf('a'.repeat(15)), 'ns/app')).resolves.toMatchObject({ size: 15 });
      // Mounted into another namespace, it counts there.
      await uploads.monolithic('other/app', digestOf('c'.repeat(10)), body('c'.repeat(10)));
      await expect(uploads.mount('other/more', digestOf('a'.repeat(15)), 'ns/app')).rejects.toMatchObject({ code: 'DENIED' });
    });

    it('cuts off an upload that grows past the whole quota while it streams', async () => {
      const { id } = await uploads.start('ns/app');
      await expect(uploads.append('ns/app', id, body('x'.repeat(21)))).rejects.toMatchObject({ code: 'DENIED', message: expect.stringContaining('larger than the whole registry quota') });
      await expect(uploads.status('ns/app', id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    });
  });
});
