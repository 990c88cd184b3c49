import { Injectable } from '@nestjs/common';
import type { BuildConfig } from '@paas/contracts/builds';
import { isDeepStrictEqual } from 'node:util';
import { builderRefOf } from '../builds/pipeline/s2i-roles';
import { BuildConfigRepository } from './buildconfig.repository';
import { CheckBuildSource } from './check-build-source';
import { parseBuildConfig } from './create-buildconfig.usecase';

/**
 * Replaces spec, labels and annotations (status is the server's); `metadata.resourceVersion`
 * in the body makes it conditional (stale → 409). A changed source or builder is checked again.
 */
@Injectable()
export class UpdateBuildConfig {
  constructor(
    private readonly buildConfigs: BuildConfigRepository,
    private readonly checkSource: CheckBuildSource,
  ) {}

  async execute(namespace: string, name: string, body: unknown): Promise<BuildConfig> {
    const input = parseBuildConfig(namespace, body, name);
    const current = await this.buildConfigs.get(namespace, name);
    const sourceChanged = !isDeepStrictEqual(input.spec.source, current.spec.source) || !isDeepStrictEqual(builderRefOf(input.spec), builderRefOf(current.spec));
    if (sourceChanged) await this.checkSource.execute(namespace, name, input.spec);
    return this.buildConfigs.update(
      namespace,
      name,
      (bc) => ({ ...bc, metadata: { ...bc.metadata, labels: input.metadata.labels, annotations: input.metadata.annotations }, spec: input.spec }),
      { resourceVersion: input.metadata.resourceVersion },
    );
  }
}
