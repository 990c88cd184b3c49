import { Module } from '@nestjs/common';
import type { HttpServiceOptions } from '@paas/platform/bootstrap';
import { CoordinationModule } from '@paas/platform/coordination.module';
import { HealthModule } from '@paas/platform/health.module';
import { MetricsModule } from '@paas/platform/metrics.module';
import { MessagingModule } from '@paas/platform/messaging.module';
import { mongoRoot } from '@paas/platform/mongo';
import { BASE_PORTS } from '@paas/platform/ports';
import { AdaptersModule } from './adapters/adapters.module';
import { BuildConfigsModule } from './buildconfigs/buildconfigs.module';
import { BuildsModule } from './builds/builds.module';
import { NodesModule } from './nodes/nodes.module';

export const SERVICE_NAME = 'build-service';

@Module({
  imports: [MessagingModule.forRoot(SERVICE_NAME), mongoRoot('paas_build'), CoordinationModule.forRoot(), HealthModule, MetricsModule, AdaptersModule, NodesModule, BuildsModule, BuildConfigsModule],
})
export class AppModule {}

/** HTTP serves health only; the API is NATS request/reply. */
export const BUILD_SERVICE_OPTIONS: HttpServiceOptions = { name: SERVICE_NAME, defaultPort: BASE_PORTS.build };
