import { createHash, type Hash } from 'node:crypto';
import { pipeline as streamPipeline, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** `sha256` of `sha256:<hex>`. */
export function algorithmOf(digest: string): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** The digest of `content` with `algorithm` (sha256 unless the client named another). */
export function contentDigest(content: Buffer, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(content).digest('hex')}`;
}

/**
 * A pass-through that feeds every chunk to `hash` on its way, so bytes are hashed while they
 * stream to disk; `counted` is told how many bytes each chunk had.
 */
export function hashing(hash: Hash, counted?: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      counted?.(chunk.length);
      callback(null, chunk);
    },
  });
}

/** `source` piped through `hashing(hash)`, with an error of the source (a client gone) passed on. */
export function throughHash(source: Readable, hash: Hash, counted?: (bytes: number) => void): Readable {
  return piped(source, hashing(hash, counted));
}

/** `source` into `stage`, errors of either side ending both; whoever reads `stage` sees the error. */
function piped(source: Readable, stage: Transform): Readable {
  streamPipeline(source, stage, () => undefined);
  return stage;
}

/**
 * `source` passed through unchanged until more than `limit` bytes went by; then the stream
 * fails with `tooMany()` and the source is left unread.
 */
export function withByteLimit(source: Readable, limit: number, tooMany: () => Error): Readable {
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > limit ? tooMany() : null, chunk);
    },
  });
  return piped(source, limited);
}

/** The digest of a whole stream with `algorithm`, read once. */
export async function digestOfStream(stream: Readable, algorithm = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(stream, hashing(hash), async function* (source) {
    for await (const _chunk of source) yield* [];
  });
  return `${algorithm}:${hash.digest('hex')}`;
}

/** The digest so far of a running hash, leaving it usable. */
export function digestSoFar(hash: Hash): string {
  return `sha256:${hash.copy().digest('hex')}`;
}
