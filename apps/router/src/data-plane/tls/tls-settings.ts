import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import type { DefaultCertificateSource } from './default-certificate';

/** The TLS front's settings, read once from the environment. */
export interface TlsSettings {
  /** ROUTER_TLS_PORT (8443); 0 picks a free port (tests). */
  port: number;
  defaultCertificate: DefaultCertificateSource;
}

export const DEFAULT_TLS_PORT = 8443;

export function loadTlsSettings(env: NodeJS.ProcessEnv = process.env): TlsSettings {
  const platform = loadConfig(env);
  const port = env.ROUTER_TLS_PORT ? Number(env.ROUTER_TLS_PORT) : DEFAULT_TLS_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`ROUTER_TLS_PORT must be a port number, not ${env.ROUTER_TLS_PORT}`);
  return {
    port,
    defaultCertificate: {
      certFile: env.ROUTER_DEFAULT_CERT_FILE || undefined,
      keyFile: env.ROUTER_DEFAULT_KEY_FILE || undefined,
      dir: path.join(platform.home, 'data', 'router'),
      domain: platform.routerDomain,
    },
  };
}
