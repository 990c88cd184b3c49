import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server as HttpServer } from 'node:http';
import type net from 'node:net';
import { busSettings, SettingError } from './bus-settings';
import { loadConfig } from './config';
import { closeListener, forwardConnections, outsideAdminPaths } from './listeners';
import { JsonLogger } from './logger';
import { adminPortCandidates, extraListenAddresses, listenOnFirstFree, sharedListenOptions, sharedPort } from './ports';
import { StatusExceptionFilter } from './status.filter';

export interface HttpServiceOptions {
  name: string;
  /**
   * The service's port (`PORT` overrides it). With `defaultAdminPort` it is public and every
   * replica shares it; without, the service answers health only and this is the base of each
   * replica's own port (docs/architecture.md, "Replicas and ports").
   */
  defaultPort: number;
  /** A public service's admin port base (`PAAS_ADMIN_PORT` overrides it): `/healthz`, `/readyz` of one replica. */
  defaultAdminPort?: number;
  /** Largest request body accepted; larger ones get 413. */
  bodyLimitBytes?: number;
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** Tests pass `false` to keep their output quiet. */
  logger?: JsonLogger | false;
  /** Reads the service's own settings before anything starts: a SettingError it throws ends the start with its one line. */
  checkSettings?: () => unknown;
}

/** A service on Fastify with JSON logs, Status errors and graceful shutdown, not yet listening. */
export async function createHttpService(module: unknown, options: HttpServiceOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    module as never,
    new FastifyAdapter({ bodyLimit: options.bodyLimitBytes ?? 1 << 20 }),
    // A failed start throws (a SettingError then ends the process with its one line), rather than aborting with a stack trace.
    { logger: options.logger ?? new JsonLogger(options.name), bufferLogs: true, abortOnError: false },
  );
  app.useGlobalFilters(new StatusExceptionFilter());
  app.enableShutdownHooks();
  app.getHttpAdapter().getInstance().addHook('onRequest', async (request, reply) => {
    if (outsideAdminPaths(request.raw.socket, request.url)) await reply.code(404).send({ message: 'the admin port serves /healthz, /readyz and /metrics only' });
  });
  await options.configure?.(app);
  return app;
}

/**
 * Ends the process with the one line a SettingError says (exit code 2), and rethrows anything
 * else: a setting the service cannot work with is not a crash, and its stack trace would only
 * hide the message.
 */
export function exitOnSettingError(service: string, error: unknown): void {
  if (!(error instanceof SettingError)) throw error;
  new JsonLogger(service).error(`cannot start: ${error.message}`, 'Settings');
  process.exit(2);
}

/**
 * Creates the service and listens on `HOST` (loopback by default). A public service listens
 * on its shared port (and on `PAAS_EXTRA_LISTEN`'s addresses), then on this replica's admin
 * port; a health-only service on this replica's port alone. The bus settings are checked
 * first, and a SettingError (then or while starting) ends the process with its message.
 */
export async function runHttpService(module: unknown, options: HttpServiceOptions): Promise<INestApplication> {
  try {
    busSettings();
    options.checkSettings?.();
    return await listenService(module, options);
  } catch (error) {
    exitOnSettingError(options.name, error);
    throw error;
  }
}

async function listenService(module: unknown, options: HttpServiceOptions): Promise<INestApplication> {
  const app = await createHttpService(module, options);
  const logger = new JsonLogger(options.name);
  const { host } = loadConfig();
  if (options.defaultAdminPort === undefined) {
    const { port } = await listenOnFirstFree(adminPortCandidates(options.defaultPort, ['PORT']), (port) => app.listen(port, host));
    logger.log(`${options.name} listening on ${host}:${port}`, 'Bootstrap');
    return app;
  }
  const listeners: net.Server[] = [];
  app.getHttpAdapter().getInstance().addHook('preClose', async () => {
    await Promise.all(listeners.map(closeListener));
  });
  const port = sharedPort(options.defaultPort, 'PORT');
  const extraAddresses = extraListenAddresses();
  await app.listen(sharedListenOptions(port, host));
  const server = app.getHttpServer() as HttpServer;
  for (const address of extraAddresses) listeners.push(await forwardConnections(server, sharedListenOptions(port, address)));
  const admin = await listenOnFirstFree(adminPortCandidates(options.defaultAdminPort, ['PAAS_ADMIN_PORT']), async (adminPort) => {
    listeners.push(await forwardConnections(server, { port: adminPort, host, admin: true }));
  });
  const extra = extraAddresses.map((address) => ` and ${address}:${port}`).join('');
  logger.log(`${options.name} listening on ${host}:${port}${extra} (shared), admin ${host}:${admin.port}`, 'Bootstrap');
  return app;
}
