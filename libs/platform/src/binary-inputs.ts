import { BINARY_INPUT_BUCKET, type BinaryUpload } from '@paas/contracts/builds';
import { nanos, StorageType, type NatsConnection, type ObjectStore } from 'nats';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { busNames } from './bus-names';
import { busSettings } from './bus-settings';

export const BINARY_INPUTS = Symbol('BINARY_INPUTS');

/** What nobody deleted (a build cancelled before it ran, a service gone mid-request) expires after this long. */
export const BINARY_INPUT_TTL_MS = 24 * 3600 * 1000;

/**
 * The uploads of Binary builds, between the gateway that receives one and the build-service
 * replica that builds it, on whichever hosts they run: a JetStream object store bucket of the
 * bus (on as many servers as the event stream), streamed in and out in chunks, never held
 * whole in memory.
 */
export interface BinaryInputs {
  /** Stores what `body` yields as a new object; what `body` throws (a limit) is thrown, and nothing is kept. */
  put(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Omit<BinaryUpload, 'asFile'>>;
  /** Writes the object to `file`; answers its size and SHA-256 (hex), or undefined when there is no such object. */
  download(object: string, file: string, signal?: AbortSignal): Promise<{ bytes: number; sha256: string } | undefined>;
  delete(object: string): Promise<void>;
}

export class NatsBinaryInputs implements BinaryInputs {
  private store?: Promise<ObjectStore>;

  constructor(
    private readonly nats: NatsConnection,
    private readonly bucket = busNames().bucket(BINARY_INPUT_BUCKET),
  ) {}

  async put(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<Omit<BinaryUpload, 'asFile'>> {
    const store = await this.bucketStore();
    const object = randomUUID();
    const hash = createHash('sha256');
    let bytes = 0;
    const counted = async function* () {
      for await (const chunk of body) {
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
    };
    // nats.js reads a web stream; its put deletes the chunks it wrote when the stream fails.
    await store.put({ name: object }, Readable.toWeb(Readable.from(counted())) as unknown as ReadableStream<Uint8Array>);
    return { object, bytes, sha256: hash.digest('hex') };
  }

  async download(object: string, file: string, signal?: AbortSignal): Promise<{ bytes: number; sha256: string } | undefined> {
    const result = await (await this.bucketStore()).get(object);
    if (!result) return undefined;
    const hash = createHash('sha256');
    let bytes = 0;
    const data = Readable.fromWeb(result.data as unknown as WebReadableStream<Uint8Array>);
    data.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    await pipeline(data, createWriteStream(file, { mode: 0o600 }), { signal });
    const error = await result.error;
    if (error) throw error;
    return { bytes, sha256: hash.digest('hex') };
  }

  async delete(object: string): Promise<void> {
    const store = await this.bucketStore();
    if (await store.info(object)) await store.delete(object);
  }

  private bucketStore(): Promise<ObjectStore> {
    this.store ??= (async () => {
      const js = this.nats.jetstream();
      return js.views.os(this.bucket, {
        description: 'Binary builds: uploads waiting for their build',
        storage: StorageType.File,
        replicas: busSettings().streamReplicas ?? 1,
        ttl: nanos(BINARY_INPUT_TTL_MS),
      });
    })().catch((error: unknown) => {
      this.store = undefined;
      throw error;
    });
    return this.store;
  }
}
