import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig, portFromEnv } from './config';
import { JsonLogger } from './logger';
import { StatusExceptionFilter } from './status.filter';

export interface HttpServiceOptions {
  name: string;
  defaultPort: number;
  /** Largest request body accepted; larger ones get 413. */
  bodyLimitBytes?: number;
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Tests pass `false` to keep their output quiet. */
  logger?: JsonLogger | false;
}

/** A service on Fastify with JSON logs, Status errors and graceful shutdown, not yet listening. */
export async function createHttpService(module: unknown, options: HttpServiceOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    module as never,
    new FastifyAdapter({ bodyLimit: options.bodyLimitBytes ?? 1 << 20 }),
    { logger: options.logger ?? new JsonLogger(options.name), bufferLogs: true },
  );
  app.useGlobalFilters(new StatusExceptionFilter());
  app.enableShutdownHooks();
  await options.configure?.(app);
  return app;
}

/** Creates the service and listens on `PORT` (or its default) on `HOST` (loopback by default). */
export async function runHttpService(module: unknown, options: HttpServiceOptions): Promise<INestApplication> {
  const app = await createHttpService(module, options);
  const { host } = loadConfig();
  const port = portFromEnv(options.defaultPort);
  await app.listen(port, host);
  new JsonLogger(options.name).log(`${options.name} listening on ${host}:${port}`, 'Bootstrap');
  return app;
}
