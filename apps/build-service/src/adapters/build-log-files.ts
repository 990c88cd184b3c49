import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { BuildLogWriter } from '../builds/pipeline/roles';

export const BUILD_LOGS = Symbol('BUILD_LOGS');

/** Largest chunk one `builds.log` call answers; a follower asks again from `nextOffset`. */
const MAX_READ_BYTES = 1 << 20;
const TAIL_KEEP_BYTES = 16 * 1024;
const MIB = 1 << 20;

export interface OpenBuildLog extends BuildLogWriter {
  close(): Promise<void>;
}

export interface BuildLogStore {
  open(namespace: string, name: string): Promise<OpenBuildLog>;
  /** Bytes from `offset` (at most 1 MiB, cut at a UTF-8 character boundary); empty when none yet. */
  read(namespace: string, name: string, offset: number): Promise<{ text: string; nextOffset: number }>;
  remove(namespace: string, name: string): Promise<void>;
}

/** What one build's log file may grow to (`BUILD_LOG_MAX_BYTES`). */
export const DEFAULT_MAX_LOG_BYTES = 10 * MIB;

/**
 * Build logs as files `<buildsDir>/<namespace>/<name>.log`, appended while the build runs.
 * A write resolves once the file can take more, so a chatty build waits for the disk
 * instead of filling memory; past `maxBytes` the file gets one "log truncated" line and
 * nothing more (the build goes on, and `tail` still sees the latest output).
 */
export class BuildLogFiles implements BuildLogStore {
  constructor(
    private readonly dir: string,
    private readonly maxBytes = DEFAULT_MAX_LOG_BYTES,
  ) {}

  private file(namespace: string, name: string): string {
    return path.join(this.dir, namespace, `${name}.log`);
  }

  async open(namespace: string, name: string): Promise<OpenBuildLog> {
    await mkdir(path.join(this.dir, namespace), { recursive: true });
    const file = this.file(namespace, name);
    const stream: WriteStream = createWriteStream(file, { flags: 'a' });
    // A failed write (ENOSPC) ends the file, not the process; close() reports it.
    let failure: Error | undefined;
    stream.on('error', (error) => (failure ??= error));
    await once(stream, 'open'); // EACCES and the like reject here, not later
    let size = (await stat(file)).size;
    let truncated = false;
    let endsWithNewline = true;
    let recent = Buffer.alloc(0);
    const maxBytes = this.maxBytes;
    return {
      async write(text) {
        const chunk = typeof text === 'string' ? Buffer.from(text) : text;
        recent = Buffer.concat([recent, chunk]).subarray(-TAIL_KEEP_BYTES);
        if (truncated || failure || !chunk.length) return;
        let kept = chunk;
        if (size + chunk.length > maxBytes) {
          truncated = true;
          const head = chunk.subarray(0, completeUtf8Length(chunk.subarray(0, Math.max(0, maxBytes - size))));
          const note = `${head.length ? (head.at(-1) === 0x0a ? '' : '\n') : endsWithNewline ? '' : '\n'}---> log truncated at ${sizeText(maxBytes)}\n`;
          kept = Buffer.concat([head, Buffer.from(note)]);
        }
        size += kept.length;
        endsWithNewline = kept.at(-1) === 0x0a;
        if (!stream.write(kept)) await drained(stream);
      },
      tail(lines) {
        return recent.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
      },
      close: () =>
        new Promise<void>((resolve, reject) => {
          if (failure) return reject(failure);
          stream.end((error?: Error | null) => (error ?? failure ? reject(error ?? failure) : resolve()));
        }),
    };
  }

  async read(namespace: string, name: string, offset: number) {
    const file = this.file(namespace, name);
    const missing = (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    };
    // Most reads are a follower's asking a few times a second and finding nothing new: those
    // look at the size only, and a read takes a buffer of what there is (not 1 MiB each time).
    const size = (await stat(file).catch(missing))?.size ?? 0;
    const length = Math.min(size - offset, MAX_READ_BYTES);
    const handle = length > 0 ? await open(file, 'r').catch(missing) : undefined;
    if (!handle) return { text: '', nextOffset: offset };
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      const complete = buffer.subarray(0, completeUtf8Length(buffer.subarray(0, bytesRead)));
      return { text: complete.toString('utf8'), nextOffset: offset + complete.length };
    } finally {
      await handle.close();
    }
  }

  async remove(namespace: string, name: string) {
    await rm(this.file(namespace, name), { force: true });
    // The namespace's folder goes with its last log; it stays while others remain.
    await rmdir(path.join(this.dir, namespace)).catch(() => undefined);
  }
}

/** Resolves once the stream wants more, or is gone (its error is kept by the writer). */
function drained(stream: WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done);
      resolve();
    };
    stream.once('drain', done).once('close', done);
  });
}

function sizeText(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}

/** The length of `bytes` without a trailing, incomplete UTF-8 sequence (the rest comes next read). */
export function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) !== 0x80) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return needed > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}
