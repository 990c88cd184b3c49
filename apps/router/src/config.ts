import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { loadTlsSettings, type TlsSettings } from './data-plane/tls/tls-settings';

/** The router's settings (docs/architecture.md), read once from the environment. */
export interface RouterConfig {
  /** Data plane; 0 picks a free port (tests). */
  httpPort: number;
  /** The TLS front: its port (`ROUTER_TLS_PORT`, 8443; 0 picks one) and default certificate. */
  tls: TlsSettings;
  /** Admin port (`/healthz`, `/readyz`); `PORT` wins over `ROUTER_ADMIN_PORT`. */
  adminPort: number;
  host: string;
  domain: string;
  snapshotFile: string;
  /** How often endpoints and routes are re-listed to heal missed events. */
  resyncIntervalMs: number;
}

export const ROUTER_SERVICE = 'router';

export function loadRouterConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const platform = loadConfig(env);
  return {
    httpPort: portOf(env.ROUTER_HTTP_PORT, 8080),
    tls: loadTlsSettings(env),
    adminPort: portOf(env.PORT, portOf(env.ROUTER_ADMIN_PORT, 8090)),
    host: platform.host,
    domain: platform.routerDomain,
    snapshotFile: path.join(platform.home, 'data', 'router', 'snapshot.json'),
    resyncIntervalMs: Math.max(1, Number(env.ROUTER_RESYNC_SECONDS) || 30) * 1000,
  };
}

function portOf(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : fallback;
}
