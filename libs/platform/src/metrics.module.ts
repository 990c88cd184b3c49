import { Controller, Get, Header, Module } from '@nestjs/common';
import { processMetrics, PROMETHEUS_CONTENT_TYPE } from './metrics';

/** `GET /metrics` on the admin port: this process's registry (work queues, reconciles) for Prometheus. */
@Controller()
class MetricsController {
  @Get('metrics')
  @Header('content-type', PROMETHEUS_CONTENT_TYPE)
  @Header('cache-control', 'no-store')
  scrape(): string {
    return processMetrics.render();
  }
}

@Module({ controllers: [MetricsController] })
export class MetricsModule {}
