import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { DEFAULT_LEASE_TIMING, LEASES_COLLECTION, Leases, leaseTermSchema, processIdentity, type LeaseTiming } from './leases';
import { ShardOwnership } from './shard-ownership';

/** Shards of a service's key space: enough that a handful of replicas each get a fair part. */
export const DEFAULT_SHARDS = 16;

/** Lease timing from the environment (`PAAS_LEASE_RENEW_MS`, `PAAS_LEASE_MS`): tests shorten it. */
export function leaseTimingFromEnv(env: NodeJS.ProcessEnv = process.env): LeaseTiming {
  const renewMs = Number(env.PAAS_LEASE_RENEW_MS) || DEFAULT_LEASE_TIMING.renewMs;
  const leaseMs = Number(env.PAAS_LEASE_MS) || DEFAULT_LEASE_TIMING.leaseMs;
  return { renewMs, leaseMs: Math.max(leaseMs, 2 * renewMs) };
}

@Injectable()
class CoordinationLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(Leases) private readonly leases: Leases,
    @Inject(ShardOwnership) private readonly ownership: ShardOwnership,
  ) {}

  /** After every module's init, so the controllers listening for shards have their caches filled. */
  async onApplicationBootstrap() {
    await this.leases.start();
    await this.ownership.start();
  }

  async onApplicationShutdown() {
    await this.ownership.stop();
    await this.leases.stop();
  }
}

/**
 * Leases and shard ownership for a service whose replicas share work (see leases.ts and
 * shard-ownership.ts), kept in the service's own database (collection `leases`).
 */
@Global()
@Module({})
export class CoordinationModule {
  static forRoot(options: { shards?: number } = {}): DynamicModule {
    return {
      module: CoordinationModule,
      providers: [
        {
          provide: Leases,
          useFactory: (connection: Connection) => new Leases(connection.model(LEASES_COLLECTION, leaseTermSchema()), processIdentity(), leaseTimingFromEnv()),
          inject: [getConnectionToken()],
        },
        { provide: ShardOwnership, useFactory: (leases: Leases) => new ShardOwnership(leases, options.shards ?? DEFAULT_SHARDS), inject: [Leases] },
        CoordinationLifecycle,
      ],
      exports: [Leases, ShardOwnership],
    };
  }
}
