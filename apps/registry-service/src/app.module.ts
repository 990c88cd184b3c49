import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { HttpServiceOptions } from '@paas/platform/bootstrap';
import { HealthModule } from '@paas/platform/health.module';
import { MetricsModule } from '@paas/platform/metrics.module';
import { MessagingModule } from '@paas/platform/messaging.module';
import { mongoRoot } from '@paas/platform/mongo';
import { BASE_PORTS } from '@paas/platform/ports';
import { DistributionModule } from './distribution/distribution.module';
import { RegistryHttp } from './distribution/registry.http';
import { ImageStreamsModule } from './imagestreams/imagestreams.module';

export const SERVICE_NAME = 'registry-service';

@Module({
  imports: [MessagingModule.forRoot(SERVICE_NAME), mongoRoot('paas_registry'), HealthModule, MetricsModule, ImageStreamsModule, DistributionModule],
})
export class AppModule {}

export const REGISTRY_OPTIONS: HttpServiceOptions = {
  name: SERVICE_NAME,
  defaultPort: BASE_PORTS.registry,
  defaultAdminPort: BASE_PORTS.registryAdmin,
  /** The `/v2` routes stream their bodies and set their own limits; this bounds the rest. */
  bodyLimitBytes: 1 << 20,
  configure: (app: NestFastifyApplication) => app.get(RegistryHttp).register(app.getHttpAdapter().getInstance()),
};
