import type { SnapshotStore } from '../adapters/snapshot-file';
import type { RouterState } from './router-state';

/**
 * Persists the router's state after changes, debounced: a burst of events gives one write,
 * and writes never overlap (a change during a write schedules one more).
 */
export class SnapshotWriter {
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private dirty = false;

  constructor(
    private readonly state: RouterState,
    private readonly store: SnapshotStore,
    private readonly warn: (message: string) => void,
    private readonly debounceMs = 250,
  ) {
    state.onChange(() => this.schedule());
  }

  schedule(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.debounceMs);
  }

  /** Writes what is pending now (shutdown, tests). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.write();
  }

  private async write(): Promise<void> {
    while (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.store
      .save(this.state.snapshot())
      .catch((error: Error) => {
        this.warn(`cannot write the router snapshot: ${error.message}`);
      })
      .finally(() => {
        this.writing = undefined;
      });
    await this.writing;
  }
}
