import { mkdir, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RouterSnapshot } from '../table/router-state';

/** Where the router keeps its last table between runs. */
export interface SnapshotStore {
  /** The last snapshot, or undefined when there is none or it cannot be read. */
  load(): RouterSnapshot | undefined;
  save(snapshot: RouterSnapshot): Promise<void>;
}

/**
 * The snapshot as one JSON file, replaced atomically (write a temporary file beside it,
 * then rename), so a crash mid-write leaves the previous snapshot intact.
 */
export class FileSnapshotStore implements SnapshotStore {
  constructor(
    readonly file: string,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  load(): RouterSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.warn(`cannot read the router snapshot ${this.file}: ${(error as Error).message}`);
      return undefined;
    }
    try {
      const snapshot = JSON.parse(text) as RouterSnapshot;
      if (snapshot?.version === 1 && Array.isArray(snapshot.routes) && Array.isArray(snapshot.endpoints)) return snapshot;
      this.warn(`ignoring the router snapshot ${this.file}: unknown format`);
    } catch (error) {
      this.warn(`ignoring the router snapshot ${this.file}: ${(error as Error).message}`);
    }
    return undefined;
  }

  async save(snapshot: RouterSnapshot): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    // Routes carry their TLS private keys: the file is the router's alone.
    await writeFile(temporary, JSON.stringify(snapshot), { mode: 0o600 });
    await rename(temporary, this.file);
  }
}
