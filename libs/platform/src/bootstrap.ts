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
}

/** Starts a service on Fastify with JSON logs, Status errors and graceful shutdown. */
export async function runHttpService(module: unknown, options: HttpServiceOptions): Promise<INestApplication> {
  const logger = new JsonLogger(options.name);
  const app = await NestFactory.create<NestFastifyApplication>(
    module as never,
    new FastifyAdapter({ bodyLimit: options.bodyLimitBytes ?? 1 << 20 }),
    { logger, bufferLogs: true },
  );
  app.useGlobalFilters(new StatusExceptionFilter());
  app.enableShutdownHooks();
  await options.configure?.(app);
  const port = portFromEnv(options.defaultPort);
  await app.listen(port, loadConfig().host);
  logger.log(`${options.name} listening on ${loadConfig().host}:${port}`, 'Bootstrap');
  return app;
}
