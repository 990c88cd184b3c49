import { Inject, Injectable, Logger } from '@nestjs/common';
import { parseByteQuantity, REGISTRY_QUOTA_ANNOTATION } from '@paas/contracts/namespaces';
import { statusOf } from '@paas/platform/api-error';
import { RpcClient } from '@paas/platform/rpc';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry-settings';

const CACHED_NAMESPACES_MAX = 10_000;

/**
 * The registry quota of each namespace: its `paas.dev/registry-storage-quota` annotation, which
 * the api-gateway owns and tells over NATS (`namespaces.get`), else the registry's default.
 * Answers are kept `quotaCacheMs`; while the gateway cannot be asked, the last answer (or
 * the default) holds, so pushes do not stop with the gateway.
 */
@Injectable()
export class NamespaceQuotas {
  private readonly logger = new Logger(NamespaceQuotas.name);
  /** namespace → quota in bytes (undefined: none), and until when it is fresh. */
  private readonly cache = new Map<string, { bytes: number | undefined; until: number }>();

  constructor(
    private readonly rpc: RpcClient,
    @Inject(REGISTRY_SETTINGS) private readonly settings: Pick<RegistrySettings, 'namespaceQuotaBytes' | 'quotaCacheMs'>,
  ) {}

  async quotaOf(namespace: string): Promise<number | undefined> {
    const cached = this.cache.get(namespace);
    if (cached && cached.until > Date.now()) return cached.bytes;
    try {
      const annotation = (await this.rpc.request('namespaces.get', { name: namespace })).metadata.annotations?.[REGISTRY_QUOTA_ANNOTATION];
      return this.keep(namespace, annotation === undefined ? this.settings.namespaceQuotaBytes : (parseByteQuantity(annotation) ?? this.settings.namespaceQuotaBytes));
    } catch (error) {
      const status = statusOf(error);
      // A namespace the gateway does not know (a cluster-admin's push, the conformance suite's): the default.
      if (status.code === 404) return this.keep(namespace, this.settings.namespaceQuotaBytes);
      this.logger.warn({ msg: `registry quota of namespace ${namespace} unknown (${status.message}): using ${cached ? 'the last one known' : 'the default'}` });
      return this.keep(namespace, cached ? cached.bytes : this.settings.namespaceQuotaBytes);
    }
  }

  private keep(namespace: string, bytes: number | undefined): number | undefined {
    if (this.cache.size >= CACHED_NAMESPACES_MAX) this.cache.clear();
    this.cache.set(namespace, { bytes, until: Date.now() + this.settings.quotaCacheMs });
    return bytes;
  }
}
