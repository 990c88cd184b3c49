import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { namespaceOfRepository } from '@paas/contracts/auth';
import { Schema, type Model } from 'mongoose';
import { upsertById } from '@paas/platform/mongo';

/**
 * What the registry knows besides blob bytes, one small document per fact so that every
 * write is single-document (FerretDB has no transactions):
 *  - `registry_repositories`: `_id` = repository name
 *  - `registry_blob_links`: `_id` = `<repository>@<digest>`: the repository may serve the blob;
 *    `usedAt` is when a client last pushed, mounted or asked for it (garbage collection spares recent ones)
 *  - `registry_manifests`: `_id` = `<repository>@<digest>`, with media type, size (bytes in the blob store),
 *    the digests it references (for garbage collection) and its subject (for the referrers API)
 *  - `registry_tags`: `_id` = `<repository>:<tag>` → digest
 */
export const REPOSITORIES = 'registry_repositories';
export const BLOB_LINKS = 'registry_blob_links';
export const MANIFESTS = 'registry_manifests';
export const TAGS = 'registry_tags';

const KNOWN_REPOSITORY_TTL_MS = 60_000;
const MAX_KNOWN_REPOSITORIES = 10_000;
/**
 * How long a namespace's blobs, read for a quota check, answer the next checks. A push checks
 * each blob it uploads or mounts, and each read goes through every blob link of the registry
 * (FerretDB filters outside SQLite: ~0.1 ms a link); this process's own links and unlinks keep
 * the answer current, another replica's are seen within this time.
 */
const NAMESPACE_BLOBS_TTL_MS = 1_000;
const MAX_NAMESPACE_BLOBS = 1_000;

interface RepositoryDoc {
  _id: string;
  createdAt: string;
}
export interface BlobLinkDoc {
  _id: string;
  repository: string;
  digest: string;
  size: number;
  usedAt?: Date;
}
export interface ManifestRecord {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  /** Blobs and manifests this one needs: kept from garbage collection while it exists. */
  references: string[];
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}
/** Annotation keys are dotted (`org.opencontainers...`), which FerretDB refuses as field names: kept as JSON text. */
interface ManifestDoc extends Omit<ManifestRecord, 'annotations'> {
  _id: string;
  createdAt: string;
  annotations?: string;
}
interface TagDoc {
  _id: string;
  repository: string;
  tag: string;
  digest: string;
  updatedAt: string;
}

const options = { versionKey: false, minimize: false } as const;
const repositorySchema = new Schema<RepositoryDoc>({ _id: String, createdAt: String }, { ...options, collection: REPOSITORIES });
const blobLinkSchema = new Schema<BlobLinkDoc>(
  { _id: String, repository: { type: String, index: true }, digest: { type: String, index: true }, size: Number, usedAt: Date },
  { ...options, collection: BLOB_LINKS },
);
const manifestSchema = new Schema<ManifestDoc>(
  {
    _id: String,
    repository: { type: String, index: true },
    digest: String,
    mediaType: String,
    size: Number,
    references: [String],
    subject: { type: String, index: true },
    artifactType: String,
    annotations: String,
    createdAt: String,
  },
  { ...options, collection: MANIFESTS },
);
const tagSchema = new Schema<TagDoc>({ _id: String, repository: { type: String, index: true }, tag: String, digest: String, updatedAt: String }, { ...options, collection: TAGS });

export const REGISTRY_MODELS = [
  { name: REPOSITORIES, schema: repositorySchema },
  { name: BLOB_LINKS, schema: blobLinkSchema },
  { name: MANIFESTS, schema: manifestSchema },
  { name: TAGS, schema: tagSchema },
];

export interface Page {
  n?: number;
  last?: string;
}

/** Repositories, their blob links, manifests and tags; plain objects in and out. */
@Injectable()
export class RegistryMetadataRepository {
  /** Repositories this process recorded, and when. */
  private readonly knownRepositories = new Map<string, number>();
  /** Namespace → its blobs as read (from when the read began), for NAMESPACE_BLOBS_TTL_MS. */
  private readonly heldBlobs = new Map<string, { blobs: Map<string, number>; at: number }>();

  constructor(
    @InjectModel(REPOSITORIES) private readonly repositories: Model<RepositoryDoc>,
    @InjectModel(BLOB_LINKS) private readonly blobLinks: Model<BlobLinkDoc>,
    @InjectModel(MANIFESTS) private readonly manifests: Model<ManifestDoc>,
    @InjectModel(TAGS) private readonly tags: Model<TagDoc>,
  ) {}

  async linkBlob(repository: string, digest: string, size: number): Promise<void> {
    await this.ensureRepository(repository);
    await upsertById(this.blobLinks, `${repository}@${digest}`, { $set: { repository, digest, size, usedAt: new Date() } });
    this.heldBlobs.get(namespaceOfRepository(repository) ?? '')?.blobs.set(digest, size);
  }

  /** Marks a linked blob as wanted now (a pusher checked it exists and will reference it). */
  async touchBlobLink(repository: string, digest: string): Promise<void> {
    await this.blobLinks.updateOne({ _id: `${repository}@${digest}` }, { $set: { usedAt: new Date() } }).exec();
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const deleted = (await this.blobLinks.deleteOne({ _id: `${repository}@${digest}` }).exec()).deletedCount === 1;
    this.heldBlobs.delete(namespaceOfRepository(repository) ?? '');
    return deleted;
  }

  /**
   * The blobs the repositories of a namespace (`<namespace>/...`) link, each once, with its
   * size: what the namespace's registry quota counts.
   */
  async namespaceBlobs(namespace: string): Promise<Map<string, number>> {
    const held = this.heldBlobs.get(namespace);
    if (held && Date.now() - held.at < NAMESPACE_BLOBS_TTL_MS) return new Map(held.blobs);
    const at = Date.now();
    // Repository names sort by their bytes: `<ns>/` up to, not including, `<ns>0` ('0' follows '/').
    const links = await this.blobLinks
      .find({ repository: { $gte: `${namespace}/`, $lt: `${namespace}0` } }, { digest: 1, size: 1 })
      .lean<Pick<BlobLinkDoc, 'digest' | 'size'>[]>()
      .exec();
    const blobs = new Map(links.map((link) => [link.digest, link.size]));
    if (this.heldBlobs.size >= MAX_NAMESPACE_BLOBS) this.heldBlobs.clear();
    this.heldBlobs.set(namespace, { blobs, at });
    return new Map(blobs);
  }

  async blobLink(repository: string, digest: string): Promise<{ size: number; usedAt?: Date } | undefined> {
    const link = await this.blobLinks.findById(`${repository}@${digest}`).lean<BlobLinkDoc>().exec();
    return link ? { size: link.size, usedAt: link.usedAt } : undefined;
  }

  /** Every repository's link to `digest` (a read of every link: FerretDB filters outside SQLite). */
  async linksOf(digest: string): Promise<BlobLinkDoc[]> {
    return this.blobLinks.find({ digest }).lean<BlobLinkDoc[]>().exec();
  }

  async putManifest(manifest: ManifestRecord): Promise<void> {
    await this.ensureRepository(manifest.repository);
    const { annotations, ...fields } = manifest;
    const doc = { ...fields, ...(annotations ? { annotations: JSON.stringify(annotations) } : {}) };
    await upsertById(this.manifests, `${manifest.repository}@${manifest.digest}`, { $set: doc, $setOnInsert: { createdAt: new Date().toISOString() } });
  }

  async manifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const doc = await this.manifests.findById(`${repository}@${digest}`).lean<ManifestDoc>().exec();
    return doc ? manifestRecordOf(doc) : undefined;
  }

  /**
   * Makes manifest `digest` and everything it references servable from `to` as it is from
   * `from` (the bytes are shared); false when `from` has no such manifest.
   */
  async copyManifest(from: string, to: string, digest: string): Promise<boolean> {
    const manifest = await this.manifest(from, digest);
    if (!manifest) return false;
    for (const reference of manifest.references) {
      if (await this.copyManifest(from, to, reference)) continue;
      const link = await this.blobLink(from, reference);
      if (link) await this.linkBlob(to, reference, link.size);
    }
    await this.putManifest({ ...manifest, repository: to });
    return true;
  }

  /** The repository's manifests whose subject is `digest`, oldest first. */
  async referrers(repository: string, digest: string): Promise<ManifestRecord[]> {
    const docs = await this.manifests.find({ repository, subject: digest }).sort({ createdAt: 1 }).lean<ManifestDoc[]>().exec();
    return docs.map(manifestRecordOf);
  }

  /** Which of `digests` have no manifest in the repository. */
  async missingManifests(repository: string, digests: string[]): Promise<string[]> {
    if (!digests.length) return [];
    const found = await this.manifests.find({ _id: { $in: digests.map((d) => `${repository}@${d}`) } }).lean<ManifestDoc[]>().exec();
    const present = new Set(found.map((doc) => doc.digest));
    return digests.filter((digest) => !present.has(digest));
  }

  /** Which of `digests` the repository may not serve as blobs. */
  async missingBlobs(repository: string, digests: string[]): Promise<string[]> {
    if (!digests.length) return [];
    const found = await this.blobLinks.find({ _id: { $in: digests.map((d) => `${repository}@${d}`) } }).lean<BlobLinkDoc[]>().exec();
    const present = new Set(found.map((doc) => doc.digest));
    return digests.filter((digest) => !present.has(digest));
  }

  /** Every digest some manifest needs: the manifests themselves and what they reference (`legacy`: records without `references`). */
  async referencedDigests(): Promise<{ referenced: Set<string>; legacy: ManifestRecord[] }> {
    const referenced = new Set<string>();
    const legacy: ManifestRecord[] = [];
    for await (const doc of this.manifests.find({}).lean<ManifestDoc>().cursor()) {
      referenced.add(doc.digest);
      if (doc.references) for (const digest of doc.references) referenced.add(digest);
      else legacy.push(manifestRecordOf(doc));
    }
    return { referenced, legacy };
  }

  /** Whether any manifest is, or references, `digest` now. */
  async isReferenced(digest: string): Promise<boolean> {
    return (await this.manifests.countDocuments({ $or: [{ digest }, { references: digest }] }).exec()) > 0;
  }

  /** Whether a pusher linked or checked `digest` in some repository after `since`. */
  async usedSince(digest: string, since: Date): Promise<boolean> {
    return (await this.blobLinks.countDocuments({ digest, usedAt: { $gt: since } }).exec()) > 0;
  }

  /** Removes `digest` from every repository; answers the links removed, to put back if it turns out to be needed. */
  async unlinkEverywhere(digest: string): Promise<BlobLinkDoc[]> {
    const links = await this.linksOf(digest);
    if (links.length) await this.blobLinks.deleteMany({ _id: { $in: links.map((link) => link._id) } }).exec();
    this.heldBlobs.clear();
    return links;
  }

  async restoreLinks(links: BlobLinkDoc[]): Promise<void> {
    for (const { _id, ...link } of links) await upsertById(this.blobLinks, _id, { $set: link });
    this.heldBlobs.clear();
  }

  /** Deletes the manifest and every tag of the repository that points at it; false when there was none. */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const deleted = await this.manifests.deleteOne({ _id: `${repository}@${digest}` }).exec();
    await this.tags.deleteMany({ repository, digest }).exec();
    return deleted.deletedCount === 1;
  }

  async tagDigest(repository: string, tag: string): Promise<string | undefined> {
    const doc = await this.tags.findById(`${repository}:${tag}`).lean<TagDoc>().exec();
    return doc?.digest;
  }

  async setTag(repository: string, tag: string, digest: string): Promise<void> {
    await upsertById(this.tags, `${repository}:${tag}`, { $set: { repository, tag, digest, updatedAt: new Date().toISOString() } });
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return (await this.tags.deleteOne({ _id: `${repository}:${tag}` }).exec()).deletedCount === 1;
  }

  async repositoryExists(repository: string): Promise<boolean> {
    return (await this.repositories.countDocuments({ _id: repository }).exec()) > 0;
  }

  /** Tag names in lexical order, after `last`, at most `n`. */
  async listTags(repository: string, page: Page): Promise<string[]> {
    const query = { repository, ...(page.last !== undefined ? { tag: { $gt: page.last } } : {}) };
    const docs = await this.tags.find(query).sort({ tag: 1 }).limit(page.n ?? 0).lean<TagDoc[]>().exec();
    return docs.map((doc) => doc.tag);
  }

  /** Repository names in lexical order, after `last`, at most `n`. */
  async listRepositories(page: Page): Promise<string[]> {
    const query = page.last !== undefined ? { _id: { $gt: page.last } } : {};
    const docs = await this.repositories.find(query).sort({ _id: 1 }).limit(page.n ?? 0).lean<RepositoryDoc[]>().exec();
    return docs.map((doc) => doc._id);
  }

  /** Forgets a repository and everything in it (its blobs stay in the store for a later GC). */
  async deleteRepository(repository: string): Promise<void> {
    this.knownRepositories.delete(repository);
    await Promise.all([
      this.tags.deleteMany({ repository }).exec(),
      this.manifests.deleteMany({ repository }).exec(),
      this.blobLinks.deleteMany({ repository }).exec(),
      this.repositories.deleteOne({ _id: repository }).exec(),
    ]);
    this.heldBlobs.delete(namespaceOfRepository(repository) ?? '');
  }

  /**
   * Records the repository unless this process did so lately: every blob link and manifest
   * of a push would otherwise upsert it again. Another replica deleting it meanwhile is seen
   * within `KNOWN_REPOSITORY_TTL_MS`.
   */
  private async ensureRepository(repository: string): Promise<void> {
    const known = this.knownRepositories.get(repository);
    if (known !== undefined && Date.now() - known < KNOWN_REPOSITORY_TTL_MS) return;
    await upsertById(this.repositories, repository, { $setOnInsert: { createdAt: new Date().toISOString() } });
    if (this.knownRepositories.size >= MAX_KNOWN_REPOSITORIES) this.knownRepositories.clear();
    this.knownRepositories.set(repository, Date.now());
  }
}


function manifestRecordOf(doc: ManifestDoc): ManifestRecord {
  const { repository, digest, mediaType, size, references, subject, artifactType, annotations } = doc;
  return { repository, digest, mediaType, size, references: references ?? [], subject, artifactType, annotations: annotations ? (JSON.parse(annotations) as Record<string, string>) : undefined };
}
