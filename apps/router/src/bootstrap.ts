import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpService } from '@paas/platform/bootstrap';
import { JsonLogger } from '@paas/platform/logger';
import { AppModule } from './app.module';
import { loadRouterConfig, ROUTER_SERVICE, type RouterConfig } from './config';
import { RouterRuntime } from './runtime';

export interface StartedRouter {
  app: NestFastifyApplication;
  runtime: RouterRuntime;
}

/**
 * Starts the data plane first (from the last snapshot), then the NestJS side: Routes RPC,
 * the table feeds and the admin port. The NestJS side waits for NATS and Mongo; traffic is
 * served meanwhile. `onDataPlane` is told as soon as the data plane listens.
 */
export async function startRouter(
  options: { config?: RouterConfig; logger?: false; onDataPlane?: (runtime: RouterRuntime) => void } = {},
): Promise<StartedRouter> {
  const config = options.config ?? loadRouterConfig();
  const logger = options.logger === false ? undefined : new JsonLogger(ROUTER_SERVICE);
  const runtime = await RouterRuntime.start(config, (message) => logger?.warn(message, 'Snapshot'));
  logger?.log(`data plane listening on ${config.host}:${runtime.httpPort} (${runtime.state.loaded ? 'table from snapshot' : 'empty table'})`, 'Bootstrap');
  options.onDataPlane?.(runtime);
  try {
    const app = await createHttpService(AppModule.forRoot(runtime), { name: ROUTER_SERVICE, defaultPort: config.adminPort, logger: options.logger });
    await app.listen(config.adminPort, config.host);
    logger?.log(`admin listening on ${config.host}:${config.adminPort}`, 'Bootstrap');
    return { app, runtime };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
