import path from 'node:path';
import { BASE_PORTS, portOffset } from './ports';

/** Settings every service reads from its environment; defaults match `npm run up`. The bus's are in bus-settings.ts. */
export interface PlatformConfig {
  mongoUrl: string;
  /** Empty: spans are not exported. */
  zipkinUrl: string;
  /** Runtime state: data, logs, pid files. */
  home: string;
  host: string;
  /** The platform registry as engines and image references name it (`REGISTRY_HOST`). */
  registryHost: string;
  /** Where the api-gateway answers (`PAAS_GATEWAY_URL`), e.g. the realm of the registry's token challenge. */
  gatewayUrl: string;
  routerDomain: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Scopes every NATS subject and the stream (see bus-names.ts); empty for the platform itself. */
  busPrefix: string;
  /** Prefixes every database name (see mongo.ts); empty for the platform itself. */
  dbPrefix: string;
  /**
   * Which platform this process belongs to (`PAAS_INSTANCE`, else the bus prefix, else
   * `default`): several platforms (a second copy, a test's or a benchmark's services) may
   * share one Docker engine, and each touches only the containers labelled with its own.
   */
  instance: string;
}

/** The label naming the platform instance a container belongs to (see `PlatformConfig.instance`). */
export const INSTANCE_LABEL = 'paas.dev/instance';
const DEFAULT_INSTANCE = 'default';

/** Whether a container with these labels belongs to this platform (containers from before the label count as the default one's). */
export function belongsToInstance(labels: Record<string, string> | undefined, instance = loadConfig().instance): boolean {
  return (labels?.[INSTANCE_LABEL] ?? DEFAULT_INSTANCE) === instance;
}

/**
 * Defaults follow `PAAS_PORT_OFFSET`: a copy whose ports are moved is another platform beside
 * the first, so it finds its own registry and gateway and, unless told otherwise, keeps its
 * own bus, databases and containers (prefix and instance `copy<offset>`).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const host = env.HOST || '127.0.0.1';
  const offset = portOffset(env);
  const copy = offset === 0 ? '' : `copy${offset}`;
  const busPrefix = env.PAAS_BUS_PREFIX || copy;
  return {
    mongoUrl: env.MONGO_URL || 'mongodb://127.0.0.1:27017',
    zipkinUrl: env.ZIPKIN_URL ?? 'http://127.0.0.1:9411/api/v2/spans',
    home: env.PAAS_HOME || path.resolve(__dirname, '../../../.paas'),
    host,
    registryHost: env.REGISTRY_HOST || `127.0.0.1:${BASE_PORTS.registry + offset}`,
    gatewayUrl: env.PAAS_GATEWAY_URL || `http://${host}:${BASE_PORTS.gateway + offset}`,
    routerDomain: env.ROUTER_DOMAIN || 'apps.localhost',
    logLevel: (env.LOG_LEVEL as PlatformConfig['logLevel']) || 'info',
    busPrefix,
    dbPrefix: env.PAAS_DB_PREFIX || copy,
    instance: env.PAAS_INSTANCE || busPrefix || DEFAULT_INSTANCE,
  };
}
