import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { BLOB_STORE, BlobNotFoundError, type BlobStore } from '../adapters/blob-store';
import { RegistryError } from './errors';
import { parseDigest } from './names';
import { RegistryMetadataRepository } from './registry-metadata.repository';

/** Blobs as a repository serves them: only those linked to it (pushed or mounted there). */
@Injectable()
export class Blobs {
  constructor(
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    private readonly metadata: RegistryMetadataRepository,
  ) {}

  async stat(repository: string, digestParam: string): Promise<{ digest: string; size: number }> {
    const digest = parseDigest(digestParam);
    const link = await this.metadata.blobLink(repository, digest);
    const stored = link && (await this.store.stat(digest));
    if (!stored) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} unknown to ${repository}`, { digest });
    return { digest, size: stored.size };
  }

  /**
   * `stat` for a pusher asking whether it must upload the blob (HEAD): a yes also marks the
   * link as wanted now, so garbage collection does not take the blob before its manifest comes.
   */
  async check(repository: string, digestParam: string): Promise<{ digest: string; size: number }> {
    const blob = await this.stat(repository, digestParam);
    await this.metadata.touchBlobLink(repository, blob.digest);
    return blob;
  }

  /** `DELETE /v2/<name>/blobs/<digest>`: the repository stops serving the blob; its bytes go at the next garbage collection. */
  async unlink(repository: string, digestParam: string): Promise<void> {
    const digest = parseDigest(digestParam);
    if (!(await this.metadata.unlinkBlob(repository, digest))) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} unknown to ${repository}`, { digest });
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<Readable> {
    return this.store.read(digest, range).catch((error: unknown) => {
      if (error instanceof BlobNotFoundError) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      throw error;
    });
  }
}
