import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { connect, type NatsConnection } from 'nats';
import { busSettings } from './bus-settings';
import { EventBus } from './events';
import { OUTBOX_PUBLISHER, OutboxRelay, type OutboxPublisher } from './outbox';
import { ResourceFeed } from './resource-feed';
import { RpcClient, RpcServer } from './rpc';
import { NATS_CONNECTION, SERVICE_NAME } from './tokens';


@Injectable()
class NatsLifecycle implements OnApplicationShutdown {
  constructor(@Inject(NATS_CONNECTION) private readonly nats: NatsConnection) {}

  async onApplicationShutdown() {
    if (!this.nats.isClosed()) await this.nats.drain();
  }
}

/**
 * NATS for one service: the connection (to every server of `NATS_URL`, reconnecting forever
 * to whichever answers), the JetStream event bus,
 * request/reply in both directions, the change feed of stored resources, and the outbox
 * (its publisher, which repositories use and which has the relay try again soon after a
 * failed publish, and its relay). `service` names its durable
 * consumers and its request queue group, so replicas of one service share the work.
 */
@Global()
@Module({})
export class MessagingModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: MessagingModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: SERVICE_NAME, useValue: service },
        {
          provide: NATS_CONNECTION,
          useFactory: () =>
            connect({
              servers: busSettings().servers,
              name: service,
              maxReconnectAttempts: -1,
              reconnectTimeWait: 500,
              waitOnFirstConnect: true,
            }),
        },
        NatsLifecycle,
        EventBus,
        RpcServer,
        RpcClient,
        ResourceFeed,
        {
          provide: OUTBOX_PUBLISHER,
          useFactory: (bus: EventBus, relay: OutboxRelay): OutboxPublisher => ({
            publish: async (event) => {
              try {
                await bus.publish(event.type, event.data, { id: event.id });
              } catch (error) {
                relay.retrySoon();
                throw error;
              }
            },
          }),
          inject: [EventBus, OutboxRelay],
        },
        OutboxRelay,
      ],
      exports: [NATS_CONNECTION, SERVICE_NAME, EventBus, RpcServer, RpcClient, ResourceFeed, OUTBOX_PUBLISHER],
    };
  }
}
