import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { connect, ErrorCode, Events, type NatsConnection, type NatsError } from 'nats';
import { busConnectionOptions, busSettings, SettingError } from './bus-settings';
import { EventBus } from './events';
import { OUTBOX_PUBLISHER, OutboxRelay, type OutboxPublisher } from './outbox';
import { ResourceFeed } from './resource-feed';
import { RpcClient, RpcServer } from './rpc';
import { NATS_CONNECTION, SERVICE_NAME } from './tokens';


/**
 * Logs every subject the server refused this connection (a permissions violation is a bug in
 * the role table or an attempt beyond the service's role: either way someone must see it), and
 * drains the connection at shutdown.
 */
@Injectable()
class NatsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Nats');

  constructor(@Inject(NATS_CONNECTION) private readonly nats: NatsConnection) {}

  onApplicationBootstrap() {
    void (async () => {
      for await (const status of this.nats.status()) {
        if (status.type === Events.Error && String(status.data) === ErrorCode.PermissionsViolation) {
          this.logger.error({ msg: 'NATS refused a subject to this service (permissions violation): see the NATS server log for which' });
        }
      }
    })().catch(() => undefined);
  }

  async onApplicationShutdown() {
    if (!this.nats.isClosed()) await this.nats.drain();
  }
}

/** Connects as `service`; refused credentials are a SettingError that says what to give. */
export async function connectToBus(service: string): Promise<NatsConnection> {
  const { servers, nkeyFile } = busSettings();
  try {
    return await connect({ ...busConnectionOptions(service), maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: true });
  } catch (error) {
    if ((error as NatsError).code !== ErrorCode.AuthorizationViolation) throw error;
    const where = servers.map((server) => server.replace(/\/\/[^@/]*@/, '//')).join(', ');
    throw new SettingError(
      nkeyFile
        ? `NATS at ${where} refused the key in NATS_NKEY_FILE (${nkeyFile}): that server does not know it (npm run up makes the server's configuration and the keys together)`
        : `NATS at ${where} asks for credentials: set NATS_NKEY_FILE to this service's NKey seed file (npm run up writes .paas/secrets/nats/${service}.nk)`,
    );
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
        { provide: NATS_CONNECTION, useFactory: () => connectToBus(service) },
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
