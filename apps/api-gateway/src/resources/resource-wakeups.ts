import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ChangeSource } from '@paas/platform/informer';
import { ResourceFeed } from '@paas/platform/resource-feed';
import { setTimeout as sleep } from 'node:timers/promises';

type Named = { metadata: { namespace: string; name: string } };

/** A follower's wait on one resource (ResourceWakeups.follow). */
export interface Wakeup {
  /**
   * Resolves after `ms`, or sooner at a change of the resource (one since the last `next` too,
   * so that a change made while the follower read is not slept through), or when `signal` aborts.
   */
  next(ms: number, signal?: AbortSignal): Promise<void>;
  /** Stops listening for changes of the resource. */
  stop(): void;
}

/**
 * Wakes whoever follows one resource (a build's log) at its next change, from the watch feed,
 * instead of at its next poll alone: a follower ends with the build, not a poll interval later,
 * and polls no more often for it. One watch of each kind for the process, begun by its first
 * follower; the feed is best effort, so a follower keeps its poll interval as the longest wait.
 */
@Injectable()
export class ResourceWakeups implements OnApplicationShutdown {
  private readonly followers = new Map<string, Set<() => void>>();
  private readonly watches = new Map<string, () => void>();

  constructor(@Inject(ResourceFeed) private readonly feed: Pick<ChangeSource, 'watch'>) {}

  follow(kind: string, namespace: string, name: string): Wakeup {
    this.watchKind(kind);
    const key = `${kind}/${namespace}/${name}`;
    let changed = false;
    let wake: (() => void) | undefined;
    const onChange = () => {
      changed = true;
      wake?.();
    };
    const followers = this.followers.get(key) ?? new Set();
    this.followers.set(key, followers.add(onChange));
    return {
      next: async (ms, signal) => {
        if (!changed) {
          const woken = new AbortController();
          wake = () => woken.abort();
          await sleep(ms, undefined, { signal: signal ? AbortSignal.any([signal, woken.signal]) : woken.signal }).catch(() => undefined);
          wake = undefined;
        }
        changed = false;
      },
      stop: () => {
        followers.delete(onChange);
        if (followers.size === 0) this.followers.delete(key);
      },
    };
  }

  onApplicationShutdown() {
    for (const stop of this.watches.values()) stop();
    this.watches.clear();
  }

  private watchKind(kind: string) {
    if (this.watches.has(kind)) return;
    const stop = this.feed.watch<Named>(kind, ({ object }) => {
      for (const onChange of this.followers.get(`${kind}/${object.metadata.namespace}/${object.metadata.name}`) ?? []) onChange();
    });
    this.watches.set(kind, stop);
  }
}
