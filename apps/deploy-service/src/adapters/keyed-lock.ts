interface Waiter {
  exclusive: boolean;
  admit: () => void;
}

interface KeyState {
  /** Holders now: shared ones counted, an exclusive one as -1. */
  holders: number;
  queue: Waiter[];
}

/**
 * Shared and exclusive turns per key, first come first served: any number of shared holders
 * at once, an exclusive holder alone. A shared request that arrives while an exclusive one
 * waits queues behind it, so neither kind starves the other.
 */
export class KeyedLock {
  private readonly keys = new Map<string, KeyState>();

  shared<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.hold(key, false, work);
  }

  exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.hold(key, true, work);
  }

  private async hold<T>(key: string, exclusive: boolean, work: () => Promise<T>): Promise<T> {
    await this.acquire(key, exclusive);
    try {
      return await work();
    } finally {
      this.release(key, exclusive);
    }
  }

  private acquire(key: string, exclusive: boolean): Promise<void> {
    const state = this.keys.get(key) ?? { holders: 0, queue: [] };
    this.keys.set(key, state);
    if (!state.queue.length && admits(state.holders, exclusive)) {
      state.holders += exclusive ? -1 : 1;
      return Promise.resolve();
    }
    return new Promise((admit) => state.queue.push({ exclusive, admit }));
  }

  private release(key: string, exclusive: boolean) {
    const state = this.keys.get(key);
    if (!state) return;
    state.holders -= exclusive ? -1 : 1;
    while (state.queue.length && admits(state.holders, state.queue[0].exclusive)) {
      const next = state.queue.shift() as Waiter;
      state.holders += next.exclusive ? -1 : 1;
      next.admit();
    }
    if (state.holders === 0 && !state.queue.length) this.keys.delete(key);
  }
}

function admits(holders: number, exclusive: boolean): boolean {
  return exclusive ? holders === 0 : holders >= 0;
}
