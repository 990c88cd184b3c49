import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { WatchEvent } from '@paas/contracts/watch';
import { randomUUID } from 'node:crypto';
import { Events as NatsEvents, headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';
import { busNames } from './bus-names';
import { NATS_CONNECTION } from './tokens';

export type ChangeListener<T = unknown> = (change: WatchEvent<T>) => void;

/** Names the process that announced a change, so that it skips its own echo. */
const ORIGIN_HEADER = 'Paas-Origin';

/**
 * The change feed of stored resources (see libs/contracts/src/watch.ts): a repository tells
 * it every write, and it hands the change at once to the listeners in this process (so a
 * replica's own caches never lag behind its own writes) and publishes it on core NATS for
 * every other replica and service. Publishing is fire and forget: the client buffers while it
 * reconnects, and a listener that may have missed changes is told to list again.
 */
@Injectable()
export class ResourceFeed implements OnApplicationShutdown {
  private readonly logger = new Logger(ResourceFeed.name);
  private readonly names = busNames();
  private readonly local = new Map<string, Set<ChangeListener>>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly reconnectListeners = new Set<() => void>();
  private statusWatch?: Promise<void>;
  private disconnected = false;
  private readonly origin = randomUUID();
  private readonly originHeaders: MsgHdrs = natsHeaders();

  constructor(@Inject(NATS_CONNECTION) private readonly nats: NatsConnection) {
    this.originHeaders.set(ORIGIN_HEADER, this.origin);
  }

  /** Announces one change of a resource of `kind`. Never throws: a lost announcement is healed by a relist. */
  announce<T extends { metadata: { namespace: string } }>(kind: string, change: WatchEvent<T>): void {
    const json = JSON.stringify(change);
    const listeners = this.local.get(kind);
    // A copy of its own: the writer goes on using the object it wrote, and caches freeze theirs.
    if (listeners?.size) {
      const copy = JSON.parse(json) as WatchEvent;
      for (const listener of listeners) this.deliver(kind, listener, copy);
    }
    try {
      this.nats.publish(this.names.watch(kind, change.object.metadata.namespace), json, { headers: this.originHeaders });
    } catch (error) {
      this.logger.warn({ msg: `could not announce a ${kind} change: ${(error as Error).message}` });
    }
  }

  /**
   * Every change of `kind` in any namespace: this process's own at once, the others' over
   * NATS. `onGap` is called when changes may have been missed (a reconnect, a server of the
   * cluster lost). Returns a function that stops it.
   */
  watch<T>(kind: string, listener: ChangeListener<T>, onGap?: () => void): () => void {
    const listeners = this.local.get(kind) ?? new Set<ChangeListener>();
    this.local.set(kind, listeners);
    listeners.add(listener as ChangeListener);
    const subscription = this.nats.subscribe(this.names.watch(kind, '*'), {
      callback: (error, message) => {
        if (error || message.headers?.get(ORIGIN_HEADER) === this.origin) return;
        let change: WatchEvent<T>;
        try {
          change = message.json<WatchEvent<T>>();
        } catch {
          this.logger.warn({ msg: `dropping an unreadable ${kind} change` });
          return;
        }
        this.deliver(kind, listener as ChangeListener, change);
      },
    });
    this.subscriptions.add(subscription);
    this.followStatus();
    if (onGap) this.reconnectListeners.add(onGap);
    return () => {
      listeners.delete(listener as ChangeListener);
      subscription.unsubscribe();
      this.subscriptions.delete(subscription);
      if (onGap) this.reconnectListeners.delete(onGap);
    };
  }

  /** A listener that throws must not fail the write that announced the change. */
  private deliver(kind: string, listener: ChangeListener, change: WatchEvent) {
    try {
      listener(change);
    } catch (error) {
      this.logger.error({ msg: `a ${kind} change listener failed: ${(error as Error).message}` });
    }
  }

  onApplicationShutdown() {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions.clear();
  }

  /**
   * Whether changes reach this process's watches now: it is connected to NATS. Changes made
   * while it was not are missed; a watch learns of that gap (its `onGap`) on the reconnect.
   */
  live(): boolean {
    return !this.disconnected && !this.nats.isClosed();
  }

  /**
   * Follows the connection: calls every `onGap` whenever changes may have been missed (this
   * process reconnected, to the same server or, in a cluster, to a survivor; or the cluster
   * around its server changed: the server's INFO update, a server gone takes the changes it
   * was still routing with it), and keeps `live` current.
   */
  private followStatus() {
    this.statusWatch ??= (async () => {
      for await (const status of this.nats.status()) {
        if (status.type === NatsEvents.Disconnect) this.disconnected = true;
        if (status.type === NatsEvents.Reconnect) this.disconnected = false;
        if (status.type === NatsEvents.Reconnect || status.type === NatsEvents.Update) for (const notify of this.reconnectListeners) notify();
      }
    })().catch(() => undefined);
  }
}
