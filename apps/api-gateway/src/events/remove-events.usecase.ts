import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@paas/platform/api-error';
import type { ResourceStore } from '@paas/platform/resource-repository';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway-settings';
import { EventRepository, type EventRecord } from './event.repository';

/**
 * Events go when their TTL has passed since their last occurrence (the pruner, every replica:
 * a delete another replica made first is fine) and with their namespace. A delete is not
 * conditional: an occurrence counted in the instant between the pruner's read and its delete
 * goes with the expired Event (it had not been seen for a whole TTL before).
 */
@Injectable()
export class RemoveEvents {
  constructor(
    @Inject(EventRepository) private readonly events: ResourceStore<EventRecord>,
    @Inject(GATEWAY_SETTINGS) private readonly settings: Pick<GatewaySettings, 'events'>,
  ) {}

  /** Removes the Events whose last occurrence is older than the TTL; answers how many. */
  async expired(now = Date.now()): Promise<number> {
    const oldest = now - this.settings.events.ttlMs;
    return this.remove((await this.events.list()).filter((event) => Date.parse(event.status.lastTimestamp) < oldest));
  }

  /** Removes every Event of a namespace being deleted; answers how many. */
  async inNamespace(namespace: string): Promise<number> {
    return this.remove(await this.events.list({ namespace }));
  }

  private async remove(events: EventRecord[]): Promise<number> {
    let removed = 0;
    for (const { metadata } of events) {
      try {
        await this.events.delete(metadata.namespace, metadata.name);
        removed++;
      } catch (error) {
        if (!(error instanceof ApiError && error.status.code === 404)) throw error;
      }
    }
    return removed;
  }
}
