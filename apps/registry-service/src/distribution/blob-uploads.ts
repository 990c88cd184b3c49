import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BLOB_STORE, UploadNotFoundError, type BlobStore } from '../adapters/blob-store';
import { StorageQuota } from '../quota/storage-quota';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry-settings';
import { algorithmOf, digestOfStream, digestSoFar, throughHash, withByteLimit } from './digest';
import { RegistryError } from './errors';
import { parseDigest } from './names';
import { RegistryMetadataRepository } from './registry-metadata.repository';

export interface UploadState {
  id: string;
  /** Bytes received so far. */
  size: number;
}

/** The hash of an upload in this process, valid while `size` matches the bytes on disk. */
interface RunningHash {
  hash: Hash;
  size: number;
}

/** Upload hashes kept in memory at most; an upload whose hash was dropped is re-read once at commit. */
const MAX_RUNNING_HASHES = 1024;

/**
 * Blob uploads (`/v2/<name>/blobs/uploads/...`): bytes stream through a sha256 hash into
 * the store's upload file, never into memory; the commit checks the digest of the whole
 * upload and only then moves it into the content-addressed store and links it to the
 * repository. A digest that does not match cancels the upload: nothing is stored.
 *
 * One request at a time per upload: a PATCH, PUT or DELETE that arrives while another is
 * still writing or committing the same upload in this process is refused with
 * BLOB_UPLOAD_INVALID, so two bodies never interleave in one file or one running hash.
 * Replicas do not share that lock; a running hash is trusted only when every byte the
 * file grew by went through it, else the commit re-reads the upload.
 */
@Injectable()
export class BlobUploads {
  private readonly logger = new Logger(BlobUploads.name);
  private readonly hashes = new Map<string, RunningHash>();
  /** Uploads a request of this process is writing to or committing right now. */
  private readonly busy = new Set<string>();

  constructor(
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    private readonly metadata: RegistryMetadataRepository,
    @Inject(REGISTRY_SETTINGS) private readonly settings: Pick<RegistrySettings, 'maxBlobBytes'>,
    private readonly quota: StorageQuota,
  ) {}

  async start(repository: string): Promise<UploadState> {
    const id = randomUUID();
    await this.store.createUpload(id, { repository, startedAt: new Date().toISOString() });
    this.remember(id, { hash: createHash('sha256'), size: 0 });
    return { id, size: 0 };
  }

  async status(repository: string, id: string): Promise<UploadState> {
    return { id, size: (await this.uploadOf(repository, id)).size };
  }

  /** Appends a chunk; `startOffset` (from Content-Range) must continue the upload exactly. */
  async append(repository: string, id: string, body: Readable, startOffset?: number): Promise<UploadState> {
    return this.exclusively(id, async () => {
      const { size } = await this.uploadOf(repository, id);
      return { id, size: await this.writeAt(repository, id, size, body, startOffset) };
    });
  }

  /**
   * Completes an upload with an optional last chunk (which, like a PATCH, must continue the
   * upload when it says where it starts): the whole upload must hash to `digest`, else it
   * is cancelled and DIGEST_INVALID thrown.
   */
  async complete(repository: string, id: string, digestParam: string | undefined, body?: Readable, startOffset?: number): Promise<{ digest: string; size: number }> {
    if (!digestParam) throw new RegistryError('DIGEST_INVALID', 'the digest query parameter is required to complete an upload');
    const digest = parseDigest(digestParam);
    return this.exclusively(id, async () => {
      let { size } = await this.uploadOf(repository, id);
      if (body) size = await this.writeAt(repository, id, size, body, startOffset);
      const actual = await this.digestOf(id, size, algorithmOf(digest));
      if (actual !== digest) {
        await this.discard(id);
        throw new RegistryError('DIGEST_INVALID', `the upload's digest is ${actual}, not ${digest}`, { digest, actual });
      }
      // A blob the namespace's quota has no room for is of no use to anyone: it goes at once.
      await this.quota.assertRoom(repository, digest, size).catch(async (error: unknown) => {
        await this.discard(id);
        throw error;
      });
      await this.store.commitUpload(id, digest);
      this.hashes.delete(id);
      await this.metadata.linkBlob(repository, digest, size);
      return { digest, size };
    });
  }

  /** A whole blob in one request (`POST ...?digest=` with a body); nothing is left behind when it fails. */
  async monolithic(repository: string, digest: string, body: Readable): Promise<{ digest: string; size: number }> {
    parseDigest(digest);
    const { id } = await this.start(repository);
    try {
      return await this.complete(repository, id, digest, body);
    } catch (error) {
      await this.discard(id);
      throw error;
    }
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.exclusively(id, async () => {
      await this.uploadOf(repository, id);
      await this.discard(id);
    });
  }

  /** Links a blob another repository holds into `repository`; false when `from` does not hold it. */
  async mount(repository: string, digestParam: string, from: string): Promise<{ digest: string; size: number } | undefined> {
    const digest = parseDigest(digestParam);
    const link = await this.metadata.blobLink(from, digest);
    return link && this.linkStored(repository, digest, link.size);
  }

  /**
   * The distribution spec's automatic content discovery: links the blob into `repository` from
   * any repository that holds it and that `mayPull` allows (the caller's token); false when none
   * does. A client's `from` names the repository it remembers the blob from, and that one may be
   * gone: an engine that pushed a builder's layer to an app whose namespace was deleted since
   * names that app, and without this uploaded the whole layer again.
   */
  async mountFromAny(repository: string, digestParam: string, mayPull: (source: string) => boolean): Promise<{ digest: string; size: number } | undefined> {
    const digest = parseDigest(digestParam);
    const source = (await this.metadata.linksOf(digest)).find((link) => link.repository !== repository && mayPull(link.repository));
    return source && this.linkStored(repository, digest, source.size);
  }

  /** Links a blob of `size` into `repository` when its bytes are stored, within the namespace's quota. */
  private async linkStored(repository: string, digest: string, size: number): Promise<{ digest: string; size: number } | undefined> {
    if (!(await this.store.stat(digest))) return undefined;
    await this.quota.assertRoom(repository, digest, size);
    await this.metadata.linkBlob(repository, digest, size);
    return { digest, size };
  }

  /** Runs `work` as the only request on upload `id` in this process; a second one is refused, not queued. */
  private async exclusively<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (this.busy.has(id)) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${id} is busy with another request; send its chunks one at a time`, { uuid: id });
    }
    this.busy.add(id);
    try {
      return await work();
    } finally {
      this.busy.delete(id);
    }
  }

  private async discard(id: string): Promise<void> {
    this.hashes.delete(id);
    await this.store.cancelUpload(id);
  }

  private async writeAt(repository: string, id: string, size: number, body: Readable, startOffset: number | undefined): Promise<number> {
    if (startOffset !== undefined && startOffset !== size) {
      throw new RegistryError('RANGE_INVALID', `chunk starts at ${startOffset} but the upload has ${size} bytes`, { size });
    }
    return this.write(repository, id, size, body);
  }

  /** Appends to the upload, cut off at the blob size limit or, when smaller, the namespace's whole quota. */
  private async write(repository: string, id: string, size: number, body: Readable): Promise<number> {
    const running = this.hashes.get(id);
    const tracking = running?.size === size ? running : undefined;
    if (!tracking) this.hashes.delete(id);
    let hashed = 0;
    const { maxBlobBytes } = this.settings;
    const quota = await this.quota.limitOf(repository);
    const [limit, tooLarge] =
      quota !== undefined && quota < maxBlobBytes
        ? [quota, () => this.quota.tooLargeForQuota(repository, quota)]
        : [maxBlobBytes, () => new RegistryError('SIZE_INVALID', `blobs are limited to ${maxBlobBytes} bytes`, { limit: maxBlobBytes })];
    const limited = withByteLimit(body, limit - size, tooLarge);
    try {
      const newSize = await this.store.append(id, tracking ? throughHash(limited, tracking.hash, (bytes) => (hashed += bytes)) : limited);
      // Another replica appending at the same time grows the file by bytes this hash never saw.
      if (tracking && newSize === size + hashed) this.remember(id, { hash: tracking.hash, size: newSize });
      else this.hashes.delete(id);
      return newSize;
    } catch (error) {
      // A chunk cut off half way leaves bytes the hash may not have seen: re-read at commit.
      this.hashes.delete(id);
      // An upload over the limit (or the whole quota) is of no use to anyone: it goes at once.
      if (error instanceof RegistryError && (error.code === 'SIZE_INVALID' || error.code === 'DENIED')) await this.store.cancelUpload(id);
      if (error instanceof UploadNotFoundError) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { uuid: id });
      throw error;
    }
  }

  /** The upload's digest: from the running sha256 hash when it saw every byte, else by reading the upload again. */
  private async digestOf(id: string, size: number, algorithm: string): Promise<string> {
    const running = this.hashes.get(id);
    if (running?.size === size && algorithm === 'sha256') return digestSoFar(running.hash);
    this.logger.debug({ msg: `hashing upload ${id} (${size} bytes) with ${algorithm} from the store: no running hash of it here covers every byte` });
    return digestOfStream(await this.store.readUpload(id), algorithm);
  }

  private async uploadOf(repository: string, id: string) {
    const upload = await this.store.upload(id).catch((error: unknown) => {
      if (error instanceof UploadNotFoundError) return undefined;
      throw error;
    });
    if (!upload || upload.repository !== repository) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { uuid: id });
    return upload;
  }

  private remember(id: string, running: RunningHash) {
    this.hashes.delete(id);
    this.hashes.set(id, running);
    if (this.hashes.size > MAX_RUNNING_HASHES) this.hashes.delete(this.hashes.keys().next().value as string);
  }
}
