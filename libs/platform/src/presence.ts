import { presenceSubject, type ServiceName } from '@paas/contracts/bus-roles';
import type { NatsConnection, Subscription } from 'nats';
import { busNames } from './bus-names';

/** How often a replica says it is alive. */
export const PRESENCE_INTERVAL_MS = 1_000;
/** A replica not heard from for this many intervals is gone. */
const MISSED_INTERVALS = 3;

interface PresenceMessage {
  replica: string;
}

/**
 * Says on its service's presence subject, every interval, that this replica is alive. Core
 * NATS, nothing stored: those who count the replicas (PresenceWatcher) only need to have
 * listened for a few intervals. A replica that stops just falls silent, so it is still
 * counted for a few intervals while it finishes what it has in flight.
 */
export class PresenceAnnouncer {
  private timer?: NodeJS.Timeout;
  private readonly subject: string;

  constructor(
    private readonly nats: NatsConnection,
    service: ServiceName,
    readonly replica: string,
    private readonly intervalMs = PRESENCE_INTERVAL_MS,
  ) {
    this.subject = busNames().scoped(presenceSubject(service));
  }

  start(): void {
    this.announce();
    this.timer = setInterval(() => this.announce(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private announce(): void {
    const message: PresenceMessage = { replica: this.replica };
    if (!this.nats.isClosed()) this.nats.publish(this.subject, JSON.stringify(message));
  }
}

/**
 * The replicas of a service heard from lately (PresenceAnnouncer). Until it has listened for
 * two intervals it cannot know them all, and says so (`live()` is undefined).
 */
export class PresenceWatcher {
  private readonly lastHeard = new Map<string, number>();
  private listeningSince?: number;
  private subscription?: Subscription;

  constructor(
    private readonly nats: NatsConnection,
    private readonly service: ServiceName,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = PRESENCE_INTERVAL_MS,
  ) {}

  start(): void {
    this.listeningSince = this.now();
    this.subscription = this.nats.subscribe(busNames().scoped(presenceSubject(this.service)), {
      callback: (error, message) => {
        if (error) return;
        try {
          this.heard(message.json<PresenceMessage>());
        } catch {
          // Not a presence message: nothing to count.
        }
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  heard(message: PresenceMessage): void {
    if (typeof message?.replica === 'string') this.lastHeard.set(message.replica, this.now());
  }

  /** The replicas alive now; undefined while this watcher has not listened long enough to know. */
  live(): string[] | undefined {
    const now = this.now();
    if (this.listeningSince === undefined || now - this.listeningSince < 2 * this.intervalMs) return undefined;
    for (const [replica, at] of this.lastHeard) if (now - at > MISSED_INTERVALS * this.intervalMs) this.lastHeard.delete(replica);
    return [...this.lastHeard.keys()];
  }
}
