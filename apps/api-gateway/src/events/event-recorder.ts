import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EventBus } from '@paas/platform/events';
import { GATEWAY_SETTINGS, type GatewaySettings } from '../gateway-settings';
import { RECORDED_EVENT_TYPES, type RecordedEventType } from '@paas/contracts/kube-events';
import { occurrenceOf } from './event-occurrence';
import { RecordEvent } from './record-event.usecase';
import { RemoveEvents } from './remove-events.usecase';

/**
 * The gateway's event recorder: one durable consumer per recorded domain event type
 * (`api-gateway--<type>`, shared by the gateway's replicas, so each event is recorded once),
 * each event handed to RecordEvent; a failure is redelivered by the bus. The consumers are
 * opened in the background: the API serves while JetStream is not there yet. And every
 * replica prunes expired Events at start and then periodically.
 */
@Injectable()
export class EventRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventRecorder.name);
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    @Inject(EventBus) private readonly bus: EventBus,
    @Inject(RecordEvent) private readonly record: RecordEvent,
    @Inject(RemoveEvents) private readonly remove: RemoveEvents,
    @Inject(GATEWAY_SETTINGS) private readonly settings: Pick<GatewaySettings, 'events'>,
  ) {}

  onApplicationBootstrap() {
    for (const type of RECORDED_EVENT_TYPES) this.listen(type);
    void this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), this.settings.events.pruneIntervalMs).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.pruneTimer);
  }

  private listen<T extends RecordedEventType>(type: T): void {
    this.bus
      .subscribe(type, async (envelope) => {
        await this.record.execute(occurrenceOf(envelope));
      })
      .catch((error: Error) => this.logger.warn({ msg: `not recording ${type}: ${error.message}` }));
  }

  private async prune(): Promise<void> {
    try {
      const removed = await this.remove.expired();
      if (removed) this.logger.log({ msg: `removed ${removed} expired event(s)` });
    } catch (error) {
      this.logger.warn({ msg: `pruning expired events failed: ${(error as Error).message}` });
    }
  }
}
