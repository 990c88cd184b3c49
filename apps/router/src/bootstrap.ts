import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SettingError } from '@paas/platform/bus-settings';
import { JsonLogger } from '@paas/platform/logger';
import { listenOnFirstFree } from '@paas/platform/ports';
import { StatusExceptionFilter } from '@paas/platform/status.filter';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppModule } from './app.module';
import { loadRouterConfig, ROUTER_SERVICE, type RouterConfig } from './config';
import { ControlPlaneAttempt } from './runtime.module';
import { RouterRuntime } from './runtime';

export interface StartedRouter {
  app: NestFastifyApplication;
  runtime: RouterRuntime;
}

/** Waits between failed control-plane starts: doubling from `firstMs` up to `maxMs`. */
export interface StartBackoff {
  firstMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: StartBackoff = { firstMs: 1_000, maxMs: 30_000 };

/**
 * Starts the data plane first (from the last snapshot), then the NestJS side: Routes RPC,
 * the table feeds and the admin port. The NestJS side waits for NATS and Mongo; traffic is
 * served meanwhile, and a start that fails (Mongo gone past its retries, a feed that cannot
 * subscribe, the admin port taken) is logged and tried again with backoff while the data
 * plane keeps serving its last table. Only a data plane that cannot listen fails the start.
 * `onDataPlane` is told as soon as the data plane listens.
 */
export async function startRouter(
  options: { config?: RouterConfig; logger?: false; onDataPlane?: (runtime: RouterRuntime) => void; backoff?: StartBackoff } = {},
): Promise<StartedRouter> {
  const config = options.config ?? loadRouterConfig();
  const logger = options.logger === false ? undefined : new JsonLogger(ROUTER_SERVICE);
  const runtime = await RouterRuntime.start(config, (message) => logger?.warn(message, 'Snapshot'));
  logger?.log(`data plane listening on ${config.host}:${runtime.httpPort} (${runtime.state.loaded ? 'table from snapshot' : 'empty table'})`, 'Bootstrap');
  options.onDataPlane?.(runtime);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  for (let attempt = 1; ; attempt++) {
    try {
      const { app, adminPort } = await startControlPlane(runtime, options.logger);
      logger?.log(`admin listening on ${config.host}:${adminPort}`, 'Bootstrap');
      return { app, runtime };
    } catch (error) {
      const delayMs = Math.min(backoff.firstMs * 2 ** (attempt - 1), backoff.maxMs);
      logger?.error(
        `control plane did not start (attempt ${attempt}): ${(error as Error).message}; serving the last table, next attempt in ${delayMs} ms`,
        // A SettingError (e.g. a stream replica count the cluster cannot keep) says all there is to say.
        error instanceof SettingError ? undefined : (error as Error).stack,
        'Bootstrap',
      );
      await sleep(delayMs);
    }
  }
}

/**
 * One attempt at the NestJS side. Built here rather than with `createHttpService` because a
 * failed start must throw (`abortOnError: false`) instead of ending the process; a failed
 * attempt's app is closed without closing the runtime.
 */
async function startControlPlane(runtime: RouterRuntime, logger: false | undefined): Promise<{ app: NestFastifyApplication; adminPort: number }> {
  const attempt = new ControlPlaneAttempt();
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(runtime, attempt), new FastifyAdapter({ bodyLimit: 1 << 20 }), {
    logger: logger ?? new JsonLogger(ROUTER_SERVICE),
    bufferLogs: true,
    abortOnError: false,
  });
  try {
    app.useGlobalFilters(new StatusExceptionFilter());
    const { port } = await listenOnFirstFree(runtime.config.adminPorts, (adminPort) => app.listen(adminPort, runtime.config.host));
    attempt.started = true;
    app.enableShutdownHooks();
    return { app, adminPort: port };
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
}
