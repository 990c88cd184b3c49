import { REGISTRY_SERVICE } from '@paas/contracts/auth';
import { parseByteQuantity } from '@paas/contracts/namespaces';
import { loadConfig } from '@paas/platform/config';

/** How the registry is tuned, from its environment; the defaults suit one small cluster. */
export interface RegistrySettings {
  /** A blob upload that grows beyond this is refused (SIZE_INVALID) and discarded. */
  maxBlobBytes: number;
  /** An upload no byte was written to for this long is abandoned: its session and bytes are removed. */
  uploadTtlMs: number;
  /** How often garbage collection and upload expiry run; 0 turns the timer off. */
  maintenanceIntervalMs: number;
  /** Blobs written, mounted or checked by a pusher more recently than this are never collected. */
  gcGraceMs: number;
  /**
   * Bytes of blobs the repositories of a namespace may hold together, unless the namespace's
   * `paas.dev/registry-storage-quota` annotation says otherwise; undefined: no default limit.
   */
  namespaceQuotaBytes: number | undefined;
  /** How long a namespace's quota, as the api-gateway told it, is used before asking again. */
  quotaCacheMs: number;
  /** How often the ImageStream cache lists every stream again (beside the changes it hears). */
  resyncMs: number;
  /** Docker token authentication: where clients get tokens (the api-gateway) and for which service. */
  auth: { enabled: boolean; realm: string; service: string };
}

export const REGISTRY_SETTINGS = Symbol('REGISTRY_SETTINGS');

const DEFAULT_NAMESPACE_QUOTA_BYTES = 10 * 2 ** 30;

export function loadRegistrySettings(env: NodeJS.ProcessEnv = process.env): RegistrySettings {
  return {
    maxBlobBytes: numberFrom(env.REGISTRY_MAX_BLOB_BYTES, 20 * 1024 ** 3),
    uploadTtlMs: numberFrom(env.REGISTRY_UPLOAD_TTL_SECONDS, 24 * 3600) * 1000,
    maintenanceIntervalMs: numberFrom(env.REGISTRY_MAINTENANCE_INTERVAL_SECONDS, 3600) * 1000,
    gcGraceMs: numberFrom(env.REGISTRY_GC_GRACE_SECONDS, 3600) * 1000,
    namespaceQuotaBytes: env.REGISTRY_NAMESPACE_QUOTA === 'none' ? undefined : (parseByteQuantity(env.REGISTRY_NAMESPACE_QUOTA ?? '') ?? DEFAULT_NAMESPACE_QUOTA_BYTES),
    quotaCacheMs: numberFrom(env.REGISTRY_QUOTA_CACHE_SECONDS, 30) * 1000,
    resyncMs: numberFrom(env.REGISTRY_RESYNC_MS, 300_000),
    auth: {
      enabled: env.REGISTRY_AUTH !== 'none',
      realm: env.REGISTRY_AUTH_REALM || `${loadConfig(env).gatewayUrl}/auth/token`,
      service: REGISTRY_SERVICE,
    },
  };
}

function numberFrom(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}
