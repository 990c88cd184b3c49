import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { BLOB_STORE, type BlobStore } from '../adapters/blob-store';
import { algorithmOf, contentDigest } from './digest';
import { RegistryError } from './errors';
import { parseManifest } from './manifest-format';
import { parseDigest, parseReference } from './names';
import { RegistryMetadataRepository, type ManifestRecord } from './registry-metadata.repository';

export interface StoredManifest {
  digest: string;
  mediaType: string;
  size: number;
  tag?: string;
  subject?: string;
}

/**
 * Manifests of a repository: bytes in the blob store under their digest (the digest of the
 * exact bytes pushed), media type and size in the metadata, tags pointing at digests.
 */
@Injectable()
export class Manifests {
  constructor(
    @Inject(BLOB_STORE) private readonly store: BlobStore,
    private readonly metadata: RegistryMetadataRepository,
  ) {}

  async put(repository: string, reference: string, body: Buffer, contentType: string | undefined): Promise<StoredManifest> {
    const ref = parseReference(reference);
    // Pushed by digest: verified with that digest's algorithm; by tag: known by its sha256.
    const digest = contentDigest(body, ref.digest ? algorithmOf(ref.digest) : 'sha256');
    if (ref.digest && ref.digest !== digest) throw new RegistryError('DIGEST_INVALID', `the manifest's digest is ${digest}, not ${ref.digest}`, { digest: ref.digest, actual: digest });
    const parsed = parseManifest(body, contentType);
    const [missingBlobs, missingManifests, stored] = await Promise.all([
      this.metadata.missingBlobs(repository, parsed.blobs),
      this.metadata.missingManifests(repository, parsed.manifests),
      this.store.stat(digest),
    ]);
    const missing = [...missingBlobs.map((d) => ({ blob: d })), ...missingManifests.map((d) => ({ manifest: d }))];
    if (missing.length) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `the manifest references ${missing.length} blob(s) or manifest(s) not in ${repository}`, missing);
    if (!stored) await this.store.putContent(digest, body);
    const { mediaType, subject, artifactType, annotations } = parsed;
    const record: ManifestRecord = { repository, digest, mediaType, size: body.length, references: [...parsed.blobs, ...parsed.manifests], subject, artifactType, annotations };
    await this.metadata.putManifest(record);
    if (ref.tag) await this.metadata.setTag(repository, ref.tag, digest);
    return { digest, mediaType, size: body.length, tag: ref.tag, subject };
  }

  /** The manifest a tag or digest names, without its bytes. */
  async stat(repository: string, reference: string): Promise<ManifestRecord> {
    const ref = parseReference(reference);
    const digest = ref.digest ?? (await this.metadata.tagDigest(repository, ref.tag));
    const record = digest ? await this.metadata.manifest(repository, digest) : undefined;
    if (!record) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} unknown to ${repository}`, { name: repository, reference });
    return record;
  }

  async read(repository: string, reference: string): Promise<ManifestRecord & { content: Readable }> {
    const record = await this.stat(repository, reference);
    return { ...record, content: await this.store.read(record.digest) };
  }

  /** Manifests of the repository that name `digest` as their subject (the subject itself need not exist). */
  async referrers(repository: string, digestParam: string): Promise<ManifestRecord[]> {
    return this.metadata.referrers(repository, parseDigest(digestParam));
  }

  /** By digest: the manifest and its tags go; by tag: only the tag goes. Answers which it was. */
  async delete(repository: string, reference: string): Promise<{ digest: string } | { tag: string }> {
    const ref = parseReference(reference);
    const target: { digest: string } | { tag: string } = ref.digest !== undefined ? { digest: ref.digest } : { tag: ref.tag ?? reference };
    const deleted = 'digest' in target ? await this.metadata.deleteManifest(repository, target.digest) : await this.metadata.deleteTag(repository, target.tag);
    if (!deleted) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} unknown to ${repository}`, { name: repository, reference });
    return target;
  }
}
