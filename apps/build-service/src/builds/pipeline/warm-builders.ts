import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import type { ContainerRuntime, WaitingContainer, WaitingSpec } from './container-runtime';

/** What a waiting builder container was made for: a build takes it only when all of it is the same. */
export interface WarmKey {
  node: string;
  /** The builder image as the build names it, and the image that is now. */
  image: string;
  imageId: string;
  user: string;
  destination: string;
  networkDisabled: boolean;
}

interface Entry {
  key: WarmKey;
  runtime: ContainerRuntime;
  /** Until it is started (WARM_START_DELAY_MS after it was asked for). */
  timer?: NodeJS.Timeout;
  container?: Promise<WaitingContainer | undefined>;
}

/**
 * How long after a build's assemble the container for the next build is started: the build's
 * commit and push, and the rollout of its image (a pod's start, right after the push), have
 * the engine and the CPU first. A small app's are over within a second here.
 */
export const WARM_START_DELAY_MS = 1_500;

/** A shutdown removes the waiting containers within this long; the leftover sweep takes what is left. */
const REMOVAL_TIMEOUT_MS = 5_000;

const idOf = (key: WarmKey) => JSON.stringify([key.node, key.image, key.imageId, key.user, key.destination, key.networkDisabled]);

/**
 * One builder container started ahead, per builder and node, waiting on stdin for the next
 * build of that builder there (S2IAssembler): that build claims it, and the container's create
 * and start (0.2–0.4 s on an engine, most of what a small app's build waits for besides its own
 * assemble) are off its path. A container is started WARM_START_DELAY_MS after a build of that
 * builder assembled there, so only builders in use wait, at most one each, and builds back to
 * back do not pay for it: a build that comes before the start cancels it and asks again once
 * assembled. It is never shared: a build takes it, and the next one waits for the one made
 * after. One of an image the builder's name no longer points to is removed when the next is
 * asked for. They are this replica's (their attach streams are): removed at shutdown, and by
 * the leftover sweep after a crash.
 */
@Injectable()
export class WarmBuilders implements OnApplicationShutdown {
  private readonly logger = new Logger(WarmBuilders.name);
  private readonly waiting = new Map<string, Entry>();
  startDelayMs = WARM_START_DELAY_MS;

  /**
   * The container waiting for builds of `key` (or being started), now the caller's to claim;
   * undefined when none waits or it is gone. One not started yet is not: the caller's build
   * starts its own, and asks for the next one once its assemble is over (replenish).
   */
  async take(key: WarmKey): Promise<WaitingContainer | undefined> {
    const entry = this.waiting.get(idOf(key));
    if (!entry) return undefined;
    this.waiting.delete(idOf(key));
    clearTimeout(entry.timer);
    return entry.container;
  }

  /** Starts a container for the next build of `key`, after startDelayMs, unless one waits (or is about to be started) already. */
  replenish(runtime: ContainerRuntime, key: WarmKey, spec: WaitingSpec): void {
    const id = idOf(key);
    if (this.waiting.has(id)) return;
    for (const [other, entry] of this.waiting) {
      if (entry.key.node === key.node && entry.key.image === key.image) {
        this.waiting.delete(other);
        void this.discard(entry);
      }
    }
    const entry: Entry = { key, runtime };
    const start = () => {
      entry.timer = undefined;
      // A trace of its own: it serves the next build, not the one that ran.
      entry.container = context.with(ROOT_CONTEXT, () => runtime.startWaiting(spec)).catch((error: Error) => {
        this.logger.warn({ msg: `no builder container waits for the next build of ${key.image} on node ${key.node}: ${error.message}` });
        return undefined;
      });
      // Gone before a build took it (removed, its engine stopped): not handed out.
      void entry.container.then((started) => (started ? started.gone : undefined)).then(() => this.waiting.get(id) === entry && this.waiting.delete(id));
    };
    entry.timer = setTimeout(start, this.startDelayMs).unref();
    this.waiting.set(id, entry);
  }

  async onApplicationShutdown(): Promise<void> {
    const entries = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.race([Promise.allSettled(entries.map((entry) => this.discard(entry))), new Promise((resolve) => setTimeout(resolve, REMOVAL_TIMEOUT_MS).unref())]);
  }

  private async discard(entry: Entry): Promise<void> {
    clearTimeout(entry.timer);
    const container = await entry.container;
    if (container) await entry.runtime.remove(container.id).catch(() => undefined);
  }
}
