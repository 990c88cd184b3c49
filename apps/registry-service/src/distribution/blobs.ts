import { Inject, Injectable } from '@nestjs/common';
import type { Writable } from 'node:stream';
import { BLOB_STORE, BlobNotFoundError, type BlobStore } from '../adapters/blob-store';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry-settings';
import { RegistryError } from './errors';
import { parseDigest } from './names';
import { RegistryMetadataRepository } from './registry-metadata.repository';

/** Blobs as a repository serves them: only those linked to it (pushed or mounted there). */
@Injectable()
export class Blobs {
  constructor(
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    private readonly metadata: RegistryMetadataRepository,
    @Inject(REGISTRY_SETTINGS) private readonly settings: Pick<RegistrySettings, 'gcGraceMs'>,
  ) {}

  async stat(repository: string, digestParam: string): Promise<{ digest: string; size: number }> {
    const { digest, size } = await this.linked(repository, digestParam);
    return { digest, size };
  }

  /**
   * `stat` for a pusher asking whether it must upload the blob (HEAD): a yes also marks the
   * link as wanted now, so garbage collection does not take the blob before its manifest
   * comes. A mark younger than a tenth of the grace period is left as it is (no write).
   */
  async check(repository: string, digestParam: string): Promise<{ digest: string; size: number }> {
    const { digest, size, usedAt } = await this.linked(repository, digestParam);
    if (!usedAt || Date.now() - usedAt.getTime() > this.settings.gcGraceMs / 10) await this.metadata.touchBlobLink(repository, digest);
    return { digest, size };
  }

  private async linked(repository: string, digestParam: string) {
    const digest = parseDigest(digestParam);
    const link = await this.metadata.blobLink(repository, digest);
    const stored = link && (await this.store.stat(digest));
    if (!stored) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} unknown to ${repository}`, { digest });
    return { digest, size: stored.size, usedAt: link.usedAt };
  }

  /** `DELETE /v2/<name>/blobs/<digest>`: the repository stops serving the blob; its bytes go at the next garbage collection. */
  async unlink(repository: string, digestParam: string): Promise<void> {
    const digest = parseDigest(digestParam);
    if (!(await this.metadata.unlinkBlob(repository, digest))) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} unknown to ${repository}`, { digest });
  }

  async copyTo(digest: string, destination: Writable, range?: { start: number; end: number }): Promise<void> {
    return this.store.copyTo(digest, destination, range).catch((error: unknown) => {
      if (error instanceof BlobNotFoundError) throw new RegistryError('BLOB_UNKNOWN', undefined, { digest });
      throw error;
    });
  }
}
