import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { adminPortCandidates, BASE_PORTS, sharedPort, type AdminPort } from '@paas/platform/ports';
import { loadTlsSettings, type TlsSettings } from './data-plane/tls/tls-settings';

/** The router's settings (docs/architecture.md), read once from the environment. */
export interface RouterConfig {
  /** Data plane (`ROUTER_HTTP_PORT`, 8080 + `PAAS_PORT_OFFSET`, shared by the replicas); 0 picks a free port (tests). */
  httpPort: number;
  /** The TLS front: its port (`ROUTER_TLS_PORT`, 8443; 0 picks one) and default certificate. */
  tls: TlsSettings;
  /** Admin port (`/healthz`, `/readyz`, `/metrics`) of this replica, the first of these free: `PORT` or `ROUTER_ADMIN_PORT` when set, else 8090 + offset + 100 × replica. */
  adminPorts: AdminPort[];
  host: string;
  domain: string;
  snapshotFile: string;
  /** How often endpoints and routes are re-listed to heal missed events (`ROUTER_RESYNC_SECONDS`, 120: events keep the table current, so this is a safety net, and each re-list reads every route and endpoint). */
  resyncIntervalMs: number;
}

export const ROUTER_SERVICE = 'router';

export function loadRouterConfig(env: NodeJS.ProcessEnv = process.env): RouterConfig {
  const platform = loadConfig(env);
  return {
    httpPort: sharedPort(BASE_PORTS.routerHttp, 'ROUTER_HTTP_PORT', env),
    tls: loadTlsSettings(env),
    adminPorts: adminPortCandidates(BASE_PORTS.routerAdmin, ['PORT', 'ROUTER_ADMIN_PORT'], env),
    host: platform.host,
    domain: platform.routerDomain,
    snapshotFile: path.join(platform.home, 'data', 'router', 'snapshot.json'),
    resyncIntervalMs: Math.max(1, Number(env.ROUTER_RESYNC_SECONDS) || 120) * 1000,
  };
}
