import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { BuildLogWriter } from '../builds/pipeline/roles';

export const BUILD_LOGS = Symbol('BUILD_LOGS');

/** Largest chunk one `builds.log` call answers; a follower asks again from `nextOffset`. */
const MAX_READ_BYTES = 1 << 20;
const TAIL_KEEP_BYTES = 16 * 1024;

export interface OpenBuildLog extends BuildLogWriter {
  close(): Promise<void>;
}

export interface BuildLogStore {
  open(namespace: string, name: string): Promise<OpenBuildLog>;
  /** Bytes from `offset` (at most 1 MiB, cut at a UTF-8 character boundary); empty when none yet. */
  read(namespace: string, name: string, offset: number): Promise<{ text: string; nextOffset: number }>;
  remove(namespace: string, name: string): Promise<void>;
}

/** Build logs as files `<buildsDir>/<namespace>/<name>.log`, appended while the build runs. */
export class BuildLogFiles implements BuildLogStore {
  constructor(private readonly dir: string) {}

  private file(namespace: string, name: string): string {
    return path.join(this.dir, namespace, `${name}.log`);
  }

  async open(namespace: string, name: string): Promise<OpenBuildLog> {
    await mkdir(path.join(this.dir, namespace), { recursive: true });
    const stream: WriteStream = createWriteStream(this.file(namespace, name), { flags: 'a' });
    let recent = Buffer.alloc(0);
    return {
      write(text) {
        const chunk = typeof text === 'string' ? Buffer.from(text) : text;
        stream.write(chunk);
        recent = Buffer.concat([recent, chunk]).subarray(-TAIL_KEEP_BYTES);
      },
      tail(lines) {
        return recent.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
      },
      close: () => new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve()))),
    };
  }

  async read(namespace: string, name: string, offset: number) {
    const handle = await open(this.file(namespace, name), 'r').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!handle) return { text: '', nextOffset: offset };
    try {
      const buffer = Buffer.alloc(MAX_READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, MAX_READ_BYTES, offset);
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
