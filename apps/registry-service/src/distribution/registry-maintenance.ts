import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BLOB_STORE, type BlobStore } from '../adapters/blob-store';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry-settings';
import { parseManifest } from './manifest-format';
import { RegistryMetadataRepository } from './registry-metadata.repository';

export interface CollectionReport {
  /** Blobs whose bytes were removed. */
  deleted: string[];
  /** Bytes freed. */
  freedBytes: number;
  /** Unreferenced blobs kept because they are younger than the grace period or were used lately. */
  spared: number;
}

/**
 * Keeps the store from growing without bound while the registry runs: abandoned upload
 * sessions expire, and blobs no manifest needs are collected.
 *
 * Collection runs online, next to pushes (distribution's own collector needs the registry
 * read-only). Mark: every manifest and every digest a manifest references, in any
 * repository. Sweep: a blob outside that set goes only when it was stored, linked or
 * checked (HEAD) by a pusher longer than `gcGraceMs` ago: a push in progress uploads or
 * checks its layers before it puts the manifest that references them. The sweep unlinks the
 * blob everywhere, looks once more for a manifest that came meanwhile (and puts the links
 * back if one did), and only then deletes the bytes. A manifest put after the unlink is
 * refused as MANIFEST_BLOB_UNKNOWN and the client uploads the blob again: no manifest ever
 * points at bytes that are gone.
 */
@Injectable()
export class RegistryMaintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RegistryMaintenance.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    private readonly metadata: RegistryMetadataRepository,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  onApplicationBootstrap() {
    if (!this.settings.maintenanceIntervalMs) return;
    this.timer = setInterval(() => void this.runOnce(), this.settings.maintenanceIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown() {
    clearInterval(this.timer);
    await this.running;
  }

  /** One round of upload expiry and garbage collection; a round still running is not doubled. */
  runOnce(): Promise<void> {
    this.running ??= (async () => {
      try {
        const expired = await this.expireUploads();
        const collected = await this.collectGarbage();
        this.logger.log({ msg: `maintenance: ${expired.length} abandoned upload(s) removed, ${collected.deleted.length} blob(s) collected (${collected.freedBytes} bytes), ${collected.spared} spared` });
      } catch (error) {
        this.logger.error({ msg: `maintenance failed: ${(error as Error).message}` });
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Removes uploads nobody wrote to for `uploadTtlMs`; answers their ids. */
  async expireUploads(now = new Date()): Promise<string[]> {
    const expired: string[] = [];
    for await (const upload of this.store.uploads()) {
      if (now.getTime() - upload.updatedAt.getTime() < this.settings.uploadTtlMs) continue;
      await this.store.cancelUpload(upload.id);
      expired.push(upload.id);
    }
    return expired;
  }

  async collectGarbage(now = new Date()): Promise<CollectionReport> {
    const cutoff = new Date(now.getTime() - this.settings.gcGraceMs);
    const referenced = await this.markReferenced();
    const report: CollectionReport = { deleted: [], freedBytes: 0, spared: 0 };
    for await (const blob of this.store.blobs()) {
      if (referenced.has(blob.digest)) continue;
      if (blob.storedAt > cutoff || (await this.metadata.usedSince(blob.digest, cutoff))) {
        report.spared++;
        continue;
      }
      const links = await this.metadata.unlinkEverywhere(blob.digest);
      if (await this.metadata.isReferenced(blob.digest)) {
        await this.metadata.restoreLinks(links);
        continue;
      }
      await this.store.delete(blob.digest);
      report.deleted.push(blob.digest);
      report.freedBytes += blob.size;
    }
    return report;
  }

  private async markReferenced(): Promise<Set<string>> {
    const { referenced, legacy } = await this.metadata.referencedDigests();
    // Manifests stored before references were recorded: read what they need from their bytes.
    for (const manifest of legacy) {
      const chunks: Buffer[] = [];
      for await (const chunk of await this.store.read(manifest.digest)) chunks.push(chunk as Buffer);
      const parsed = parseManifest(Buffer.concat(chunks), manifest.mediaType);
      for (const digest of [...parsed.blobs, ...parsed.manifests]) referenced.add(digest);
    }
    return referenced;
  }
}
