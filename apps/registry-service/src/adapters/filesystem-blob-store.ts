import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { copyFileRange } from './file-range-copy';
import { BlobNotFoundError, UploadNotFoundError, type BlobStore, type StoredBlob, type UploadInfo } from './blob-store';

/**
 * The blob store on a local (or shared) filesystem. Layout under `root`
 * (`PAAS_HOME/data/registry`):
 *
 *   blobs/sha256/<first two hex>/<hex>   the bytes of a blob, written once, never changed
 *   uploads/<id>/data                    an upload's bytes so far
 *   uploads/<id>/info.json               its repository and start time
 *
 * A blob appears only by a hard `link` from an upload or a temporary file in the same
 * filesystem, so a reader never sees a partly written blob, and it is never replaced: when
 * the digest is already stored (another repository's copy of a shared layer), the stored
 * file stays as it is and the new bytes, verified to have the same digest, are dropped.
 */
export class FilesystemBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  async stat(digest: string) {
    const info = await stat(this.blobPath(digest)).catch(ifMissing(undefined));
    return info ? { size: info.size } : undefined;
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<Readable> {
    return openForReading(this.blobPath(digest), range, () => new BlobNotFoundError(digest));
  }

  async copyTo(digest: string, destination: Writable, range?: { start: number; end: number }): Promise<void> {
    const handle = await open(this.blobPath(digest), 'r').catch(
      ifMissing(() => {
        throw new BlobNotFoundError(digest);
      }),
    );
    try {
      const end = range ? range.end + 1 : (await handle.stat()).size;
      await copyFileRange(handle, range?.start ?? 0, end, destination);
    } finally {
      await handle.close();
    }
  }

  async putContent(digest: string, content: Buffer): Promise<void> {
    const temporary = path.join(this.root, 'uploads', `.content-${randomUUID()}`);
    await mkdir(path.dirname(temporary), { recursive: true });
    await writeFile(temporary, content);
    await this.moveIntoPlace(temporary, digest);
  }

  async createUpload(id: string, info: UploadInfo): Promise<void> {
    await mkdir(this.uploadDir(id), { recursive: true });
    await writeFile(path.join(this.uploadDir(id), 'data'), '');
    await writeFile(path.join(this.uploadDir(id), 'info.json'), JSON.stringify(info));
  }

  async upload(id: string) {
    const info = await readFile(path.join(this.uploadDir(id), 'info.json'), 'utf8').catch(ifMissing(undefined));
    const data = await stat(path.join(this.uploadDir(id), 'data')).catch(ifMissing(undefined));
    if (info === undefined || data === undefined) return undefined;
    return { ...(JSON.parse(info) as UploadInfo), size: data.size };
  }

  async append(id: string, data: Readable): Promise<number> {
    const file = path.join(this.uploadDir(id), 'data');
    if (!(await this.upload(id))) throw new UploadNotFoundError(id);
    await pipeline(data, createWriteStream(file, { flags: 'a' }));
    return (await stat(file)).size;
  }

  async readUpload(id: string): Promise<Readable> {
    return openForReading(path.join(this.uploadDir(id), 'data'), undefined, () => new UploadNotFoundError(id));
  }

  async commitUpload(id: string, digest: string): Promise<void> {
    await this.moveIntoPlace(path.join(this.uploadDir(id), 'data'), digest).catch(
      ifMissing(() => {
        throw new UploadNotFoundError(id);
      }),
    );
    await this.cancelUpload(id);
  }

  async cancelUpload(id: string): Promise<void> {
    await rm(this.uploadDir(id), { recursive: true, force: true });
  }

  async *blobs(): AsyncIterable<StoredBlob> {
    const blobsDir = path.join(this.root, 'blobs');
    for (const algorithm of await readdir(blobsDir).catch(ifMissing([] as string[]))) {
      for (const prefix of await readdir(path.join(blobsDir, algorithm)).catch(ifMissing([] as string[]))) {
        for (const hex of await readdir(path.join(blobsDir, algorithm, prefix)).catch(ifMissing([] as string[]))) {
          const info = await stat(path.join(blobsDir, algorithm, prefix, hex)).catch(ifMissing(undefined));
          // A hard link keeps the upload's mtime; the link itself is the inode's last change.
          if (info) yield { digest: `${algorithm}:${hex}`, size: info.size, storedAt: new Date(Math.max(info.mtimeMs, info.ctimeMs)) };
        }
      }
    }
  }

  async delete(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async *uploads() {
    for (const id of await readdir(path.join(this.root, 'uploads')).catch(ifMissing([] as string[]))) {
      if (id.startsWith('.')) continue;
      const upload = await this.upload(id);
      const data = await stat(path.join(this.uploadDir(id), 'data')).catch(ifMissing(undefined));
      if (upload && data) yield { id, ...upload, updatedAt: new Date(data.mtimeMs) };
    }
  }

  /** Links `file` in as the blob unless the blob exists (`link` never overwrites), then removes `file`. */
  private async moveIntoPlace(file: string, digest: string) {
    const target = this.blobPath(digest);
    await mkdir(path.dirname(target), { recursive: true });
    await link(file, target).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    await rm(file, { force: true });
  }

  private blobPath(digest: string): string {
    const [algorithm, hex] = digest.split(':');
    return path.join(this.root, 'blobs', algorithm, hex.slice(0, 2), hex);
  }

  private uploadDir(id: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(id)) throw new UploadNotFoundError(id);
    return path.join(this.root, 'uploads', id);
  }
}

/** Opens the file first, so a missing file is an error of ours before any byte is sent. */
async function openForReading(file: string, range: { start: number; end: number } | undefined, notFound: () => Error): Promise<Readable> {
  const stream = createReadStream(file, range ? { start: range.start, end: range.end } : {});
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? notFound() : error));
  });
  return stream;
}

function ifMissing<T>(fallback: T | (() => T)) {
  return (error: NodeJS.ErrnoException): T => {
    if (error.code !== 'ENOENT') throw error;
    return typeof fallback === 'function' ? (fallback as () => T)() : fallback;
  };
}
