import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EventBus } from '@paas/platform/events';
import { ImageStreamRepository } from './imagestream.repository';

/** How often streams are checked for events a write recorded but no publish sent. */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * The other half of the ImageStreams' outbox: at start and then every half minute, every
 * stream that still owes the bus events (its writer died between the write and the
 * publish, or NATS was down) has them published, in order. With several replicas each
 * sweeps; a repeated publish has the same id and the bus drops it.
 */
@Injectable()
export class ImageStreamEventsRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ImageStreamEventsRelay.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly streams: ImageStreamRepository,
    private readonly events: EventBus,
  ) {}

  onApplicationBootstrap() {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** Publishes what every stream owes; answers how many events went out. */
  async sweep(): Promise<number> {
    let published = 0;
    try {
      for (const uid of await this.streams.withPendingOutbox()) {
        published += await this.streams.flushOutbox(uid, (event) => this.events.publish(event.type, event.data, { id: event.id }));
      }
      if (published) this.logger.log({ msg: `published ${published} imagestream event(s) a write had left owing` });
    } catch (error) {
      this.logger.warn({ msg: `imagestream events not relayed, retrying in ${SWEEP_INTERVAL_MS / 1000} s: ${(error as Error).message}` });
    }
    return published;
  }
}
