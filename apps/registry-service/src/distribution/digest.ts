import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export function sha256Digest(content: Buffer): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** A pass-through that feeds every chunk to `hash` on its way, so bytes are hashed while they stream to disk. */
export function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

/** `source` piped through `hashing(hash)`, with an error of the source (a client gone) passed on. */
export function throughHash(source: Readable, hash: Hash): Readable {
  const through = hashing(hash);
  source.once('error', (error) => through.destroy(error));
  return source.pipe(through);
}

/** The sha256 digest of a whole stream, read once. */
export async function digestOfStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(stream, hashing(hash), async function* (source) {
    for await (const _chunk of source) yield* [];
  });
  return `sha256:${hash.digest('hex')}`;
}

/** The digest so far of a running hash, leaving it usable. */
export function digestSoFar(hash: Hash): string {
  return `sha256:${hash.copy().digest('hex')}`;
}
