import type { Readable, Writable } from 'node:stream';

/**
 * Where blob bytes live, after distribution's storage driver: content-addressed blobs
 * (`sha256:<hex>`, already verified by the caller) and resumable uploads that are appended
 * to and then committed atomically under their digest. The driver knows nothing about
 * repositories, manifests or digests' correctness: that is the registry's job above it.
 * Every driver must pass `blob-store.conformance.ts`.
 */
export interface BlobStore {
  /** The size of a stored blob, or undefined when it is not stored. */
  stat(digest: string): Promise<{ size: number } | undefined>;
  /** The blob's bytes, `start`..`end` inclusive when given; throws BlobNotFoundError. */
  read(digest: string, range?: { start: number; end: number }): Promise<Readable>;
  /**
   * Writes the blob's bytes (`start`..`end` inclusive when given) to `destination`, the
   * fastest way the driver knows; resolves once the last byte was taken (the caller ends
   * the destination). Throws BlobNotFoundError before writing anything.
   */
  copyTo(digest: string, destination: Writable, range?: { start: number; end: number }): Promise<void>;
  /** Stores small content (a manifest) under its digest in one step; a stored digest is kept as it is. */
  putContent(digest: string, content: Buffer): Promise<void>;

  createUpload(id: string, info: UploadInfo): Promise<void>;
  /** The upload's metadata and current size, or undefined when there is no such upload. */
  upload(id: string): Promise<(UploadInfo & { size: number }) | undefined>;
  /** Appends a stream to the upload; resolves with the upload's new size. Throws UploadNotFoundError. */
  append(id: string, data: Readable): Promise<number>;
  /** The upload's bytes so far (to re-hash an upload another process started). */
  readUpload(id: string): Promise<Readable>;
  /**
   * Moves the upload's bytes to `digest` atomically and forgets the upload. When `digest` is
   * already stored, the stored blob is kept untouched (same digest, same bytes) and the
   * upload's bytes are dropped.
   */
  commitUpload(id: string, digest: string): Promise<void>;
  /** Forgets the upload and its bytes; no error if it is already gone. */
  cancelUpload(id: string): Promise<void>;

  /** Every stored blob, in no particular order (for garbage collection). */
  blobs(): AsyncIterable<StoredBlob>;
  /** Removes a stored blob; no error if it is already gone. A reader that opened it first may finish. */
  delete(digest: string): Promise<void>;
  /** Every upload in progress, with when its bytes last changed (to expire abandoned ones). */
  uploads(): AsyncIterable<UploadInfo & { id: string; size: number; updatedAt: Date }>;
}

export interface StoredBlob {
  digest: string;
  size: number;
  /** When the blob was stored (or last stored again). */
  storedAt: Date;
}

export interface UploadInfo {
  /** The repository the upload was started in: another repository cannot use its id. */
  repository: string;
  startedAt: string;
}

export const BLOB_STORE = Symbol('BLOB_STORE');

export class BlobNotFoundError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} not found`);
    this.name = 'BlobNotFoundError';
  }
}

export class UploadNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`upload ${id} not found`);
    this.name = 'UploadNotFoundError';
  }
}
