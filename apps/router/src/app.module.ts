import { Module, type DynamicModule } from '@nestjs/common';
import { HealthModule } from '@paas/platform/health.module';
import { MessagingModule } from '@paas/platform/messaging.module';
import { mongoRoot } from '@paas/platform/mongo';
import { ROUTER_SERVICE } from './config';
import { EndpointsModule } from './endpoints/endpoints.module';
import { ObservabilityModule } from './observability/observability.module';
import { RoutesModule } from './routes/routes.module';
import type { RouterRuntime } from './runtime';
import { RuntimeModule, type ControlPlaneAttempt } from './runtime.module';

/** The router's control side: Routes over RPC, table feeds, health and metrics on the admin port. */
@Module({})
export class AppModule {
  static forRoot(runtime: RouterRuntime, attempt: ControlPlaneAttempt): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MessagingModule.forRoot(ROUTER_SERVICE),
        mongoRoot('paas_router'),
        HealthModule,
        RuntimeModule.forRoot(runtime, attempt),
        RoutesModule,
        EndpointsModule,
        ObservabilityModule.forRoot(runtime.observers.metrics),
      ],
    };
  }
}
