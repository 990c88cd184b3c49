import { Injectable } from '@nestjs/common';
import { namespaceOfRepository } from '@paas/contracts/auth';
import { formatBytes, REGISTRY_QUOTA_ANNOTATION } from '@paas/contracts/namespaces';
import { RegistryError } from '../distribution/errors';
import { RegistryMetadataRepository } from '../distribution/registry-metadata.repository';
import { NamespaceQuotas } from './namespace-quotas';

/**
 * Whether a blob may join a repository under its namespace's registry quota: the bytes of the
 * blobs the namespace's repositories link, each counted once, may not grow past it. A blob the
 * namespace holds already costs nothing more. Refused with DENIED and how much is used.
 *
 * Checked against what is stored when the blob arrives, not reserved: two pushes finishing
 * at the same moment may together pass the quota by their own size (FerretDB cannot update
 * a shared counter atomically; see docs/registry.md).
 */
@Injectable()
export class StorageQuota {
  constructor(
    private readonly quotas: NamespaceQuotas,
    private readonly metadata: RegistryMetadataRepository,
  ) {}

  /** The quota of the repository's namespace in bytes; undefined when it has none (or no namespace). */
  async limitOf(repository: string): Promise<number | undefined> {
    const namespace = namespaceOfRepository(repository);
    return namespace === undefined ? undefined : this.quotas.quotaOf(namespace);
  }

  /** An upload larger than the whole quota can never be stored: refused as soon as it grows past it. */
  tooLargeForQuota(repository: string, quota: number): RegistryError {
    const namespace = namespaceOfRepository(repository) as string;
    return new RegistryError('DENIED', `this blob is larger than the whole registry quota of namespace "${namespace}" (${formatBytes(quota)}, ${REGISTRY_QUOTA_ANNOTATION})`, {
      namespace,
      quota,
    });
  }

  async assertRoom(repository: string, digest: string, size: number): Promise<void> {
    const quota = await this.limitOf(repository);
    if (quota === undefined) return;
    const namespace = namespaceOfRepository(repository) as string;
    const held = await this.metadata.namespaceBlobs(namespace);
    if (held.has(digest)) return;
    let used = 0;
    for (const bytes of held.values()) used += bytes;
    if (used + size <= quota) return;
    throw new RegistryError(
      'DENIED',
      `the registry quota of namespace "${namespace}" is ${formatBytes(quota)}, ${formatBytes(used)} of it used: this blob of ${formatBytes(size)} does not fit ` +
        `(delete images there, or ask a cluster-admin to raise ${REGISTRY_QUOTA_ANNOTATION})`,
      { namespace, quota, used, size },
    );
  }
}
