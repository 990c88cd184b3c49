import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describeBlobStoreConformance } from '../../test/support/blob-store-conformance';
import { FilesystemBlobStore } from './filesystem-blob-store';

const roots: string[] = [];
async function newRoot() {
  const root = await mkdtemp(path.join(os.tmpdir(), 'blobstore-'));
  roots.push(root);
  return root;
}
afterAll(() => Promise.all(roots.map((root) => rm(root, { recursive: true, force: true }))));

describeBlobStoreConformance('filesystem', async () => new FilesystemBlobStore(await newRoot()));

describe('FilesystemBlobStore layout', () => {
  it('keeps blobs under blobs/sha256/<first two hex>/<hex>', async () => {
    const root = await newRoot();
    const store = new FilesystemBlobStore(root);
    await store.createUpload('u1', { repository: 'ns/app', startedAt: 'now' });
    await store.append('u1', Readable.from([Buffer.from('abc')]));
    const hex = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    await store.commitUpload('u1', `sha256:${hex}`);
    expect(await readdir(path.join(root, 'blobs', 'sha256', 'ba'))).toEqual([hex]);
    expect(await readdir(path.join(root, 'uploads'))).toEqual([]);
  });

  it('leaves the file of a blob already stored untouched when the same digest is committed again', async () => {
    const root = await newRoot();
    const store = new FilesystemBlobStore(root);
    const hex = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    const file = path.join(root, 'blobs', 'sha256', 'ba', hex);
    await store.putContent(`sha256:${hex}`, Buffer.from('abc'));
    const before = await stat(file);

    await store.createUpload('u2', { repository: 'other/app', startedAt: 'now' });
    await store.append('u2', Readable.from([Buffer.from('abc')]));
    await store.commitUpload('u2', `sha256:${hex}`);
    await store.putContent(`sha256:${hex}`, Buffer.from('abc'));

    const after = await stat(file);
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs });
    expect(await readdir(path.join(root, 'uploads'))).toEqual([]);
  });
});
