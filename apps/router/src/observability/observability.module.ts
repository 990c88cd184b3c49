import { Controller, Get, Header, Inject, Module, type DynamicModule } from '@nestjs/common';
import { processMetrics, PROMETHEUS_CONTENT_TYPE } from '@paas/platform/metrics';
import { RouterMetrics } from './router-metrics';

/** `GET /metrics` on the admin port: the data plane's per-route metrics, then the process registry's, for Prometheus. */
@Controller()
class MetricsController {
  constructor(@Inject(RouterMetrics) private readonly metrics: RouterMetrics) {}

  @Get('metrics')
  @Header('content-type', PROMETHEUS_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  scrape(): string {
    return this.metrics.render() + processMetrics.render();
  }
}

/** Serves the metrics the running data plane collects (they outlive any one NestJS start). */
@Module({})
export class ObservabilityModule {
  static forRoot(metrics: RouterMetrics): DynamicModule {
    return { module: ObservabilityModule, controllers: [MetricsController], providers: [{ provide: RouterMetrics, useValue: metrics }] };
  }
}
