import { createHash, randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { BlobNotFoundError, UploadNotFoundError, type BlobStore } from '../../src/adapters/blob-store';

const digestOf = (content: string) => `sha256:${createHash('sha256').update(content).digest('hex')}`;

/** What every BlobStore driver must do; run it from the driver's spec with a fresh store. */
export function describeBlobStoreConformance(driver: string, newStore: () => Promise<BlobStore>) {
  describe(`BlobStore conformance: ${driver}`, () => {
    let store: BlobStore;
    beforeEach(async () => {
      store = await newStore();
    });

    it('appends an upload in chunks and commits it under its digest', async () => {
      const id = randomUUID();
      await store.createUpload(id, { repository: 'ns/app', startedAt: '2026-01-01T00:00:00Z' });
      expect(await store.append(id, Readable.from([Buffer.from('hello ')]))).toBe(6);
      expect(await store.append(id, Readable.from([Buffer.from('world')]))).toBe(11);
      expect(await store.upload(id)).toEqual({ repository: 'ns/app', startedAt: '2026-01-01T00:00:00Z', size: 11 });
      expect(await text(await store.readUpload(id))).toBe('hello world');

      const digest = digestOf('hello world');
      await store.commitUpload(id, digest);
      expect(await store.stat(digest)).toEqual({ size: 11 });
      expect(await text(await store.read(digest))).toBe('hello world');
      expect(await text(await store.read(digest, { start: 6, end: 10 }))).toBe('world');
      expect(await store.upload(id)).toBeUndefined();
    });

    it('keeps a blob already stored when the same digest is committed again, and forgets the upload', async () => {
      const digest = digestOf('shared layer');
      await store.putContent(digest, Buffer.from('shared layer'));
      const id = randomUUID();
      await store.createUpload(id, { repository: 'other/app', startedAt: '2026-01-01T00:00:00Z' });
      await store.append(id, Readable.from([Buffer.from('shared layer')]));
      await store.commitUpload(id, digest);
      expect(await text(await store.read(digest))).toBe('shared layer');
      expect(await store.upload(id)).toBeUndefined();
    });

    it('forgets a cancelled upload and stores nothing', async () => {
      const id = randomUUID();
      await store.createUpload(id, { repository: 'ns/app', startedAt: '2026-01-01T00:00:00Z' });
      await store.append(id, Readable.from([Buffer.from('discarded')]));
      await store.cancelUpload(id);
      expect(await store.upload(id)).toBeUndefined();
      expect(await store.stat(digestOf('discarded'))).toBeUndefined();
      await expect(store.append(id, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(UploadNotFoundError);
    });

    it('stores small content in one step and reports missing blobs with a typed error', async () => {
      const digest = digestOf('{}');
      await store.putContent(digest, Buffer.from('{}'));
      expect(await text(await store.read(digest))).toBe('{}');
      const missing = digestOf('missing');
      expect(await store.stat(missing)).toBeUndefined();
      await expect(store.read(missing)).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('lists stored blobs and uploads in progress, and deletes a blob', async () => {
      const before = Date.now() - 1000;
      const kept = digestOf('kept');
      const dropped = digestOf('dropped');
      await store.putContent(kept, Buffer.from('kept'));
      await store.putContent(dropped, Buffer.from('dropped'));
      const id = randomUUID();
      await store.createUpload(id, { repository: 'ns/app', startedAt: '2026-01-01T00:00:00Z' });
      await store.append(id, Readable.from([Buffer.from('half')]));

      const blobs = [];
      for await (const blob of store.blobs()) blobs.push(blob);
      expect(blobs.map((b) => [b.digest, b.size]).sort()).toEqual([[dropped, 7], [kept, 4]].sort());
      expect(blobs.every((b) => b.storedAt.getTime() >= before)).toBe(true);
      const uploads = [];
      for await (const upload of store.uploads()) uploads.push(upload);
      expect(uploads).toEqual([{ id, repository: 'ns/app', startedAt: '2026-01-01T00:00:00Z', size: 4, updatedAt: expect.any(Date) }]);

      await store.delete(dropped);
      await store.delete(dropped);
      expect(await store.stat(dropped)).toBeUndefined();
      expect(await store.stat(kept)).toEqual({ size: 4 });
    });

    it('copies a blob, or a range of it, to a destination, and reports a missing one before writing', async () => {
      const content = Buffer.from(randomUUID().repeat(100_000));
      const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
      await store.putContent(digest, content);
      const copied = async (range?: { start: number; end: number }) => {
        const chunks: Buffer[] = [];
        const destination = new Writable({
          write(chunk: Buffer, _encoding, callback) {
            chunks.push(Buffer.from(chunk));
            setImmediate(callback);
          },
        });
        await store.copyTo(digest, destination, range);
        return Buffer.concat(chunks);
      };
      expect((await copied()).equals(content)).toBe(true);
      expect((await copied({ start: 1_500_000, end: 2_600_000 })).equals(content.subarray(1_500_000, 2_600_001))).toBe(true);
      const untouched = new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('written to')) });
      await expect(store.copyTo(digestOf('missing'), untouched)).rejects.toBeInstanceOf(BlobNotFoundError);
    });

    it('refuses upload ids that could escape the store', async () => {
      await expect(store.upload('../../etc')).rejects.toBeInstanceOf(UploadNotFoundError);
    });
  });
}
