import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { BASE_PORTS, sharedPort } from '@paas/platform/ports';
import type { DefaultCertificateSource } from './default-certificate';

/** The TLS front's settings, read once from the environment. */
export interface TlsSettings {
  /** ROUTER_TLS_PORT (8443 + `PAAS_PORT_OFFSET`, shared by the replicas); 0 picks a free port (tests). */
  port: number;
  defaultCertificate: DefaultCertificateSource;
}

export function loadTlsSettings(env: NodeJS.ProcessEnv = process.env): TlsSettings {
  const platform = loadConfig(env);
  return {
    port: sharedPort(BASE_PORTS.routerTls, 'ROUTER_TLS_PORT', env),
    defaultCertificate: {
      certFile: env.ROUTER_DEFAULT_CERT_FILE || undefined,
      keyFile: env.ROUTER_DEFAULT_KEY_FILE || undefined,
      dir: path.join(platform.home, 'data', 'router'),
      domain: platform.routerDomain,
    },
  };
}
