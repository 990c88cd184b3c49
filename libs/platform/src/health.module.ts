import { Controller, Get, HttpCode, Inject, Module } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { NatsConnection } from 'nats';
import { ApiError } from './api-error';
import { replicaSlot } from './ports';
import { NATS_CONNECTION } from './tokens';

const MONGO_CONNECTED = 1;

/**
 * `/healthz`: the process answers, and says which replica it is (its slot, as in the admin
 * port: replicas sharing a port are told apart by it). `/readyz`: it can reach NATS and its database.
 */
@Controller()
class HealthController {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @InjectConnection() private readonly mongo: Connection,
  ) {}

  @Get('healthz')
  @HttpCode(200)
  live() {
    return { status: 'ok', replica: replicaSlot() };
  }

  @Get('readyz')
  ready() {
    const checks = {
      nats: !this.nats.isClosed() && !this.nats.isDraining() ? 'ok' : 'unavailable',
      mongo: this.mongo.readyState === MONGO_CONNECTED ? 'ok' : 'unavailable',
    };
    const failing = Object.entries(checks).filter(([, state]) => state !== 'ok').map(([name]) => name);
    if (failing.length) throw ApiError.of('ServiceUnavailable', `not ready: ${failing.join(', ')} unavailable`);
    return { status: 'ok', checks };
  }
}

@Module({ controllers: [HealthController] })
export class HealthModule {}
