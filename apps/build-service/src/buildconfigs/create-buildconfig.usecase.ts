import { Injectable } from '@nestjs/common';
import { buildConfigInput, type BuildConfig, type BuildConfigInput } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import { dryRunPreview, parseBody } from '@paas/platform/rpc-input';
import { BuildConfigRepository } from './buildconfig.repository';
import { CheckBuildSource } from './check-build-source';
import { InstantiateBuild } from './instantiate-build.usecase';

/** The body as a BuildConfig input: schema-valid, in the namespace of the request and, given a `name`, named so. */
export function parseBuildConfig(namespace: string, body: unknown, name?: string): BuildConfigInput {
  const input = parseBody(buildConfigInput, body, 'BuildConfig', namespace);
  if (name && input.metadata.name !== name) {
    throw ApiError.of('BadRequest', `the name of the object (${input.metadata.name}) does not match the name of the request (${name})`);
  }
  return input;
}

/**
 * Validates (schema, builder, git source), stores, and with a ConfigChange trigger starts
 * build 1. `dryRun` does every check and answers what would be stored, storing nothing.
 */
@Injectable()
export class CreateBuildConfig {
  constructor(
    private readonly buildConfigs: BuildConfigRepository,
    private readonly checkSource: CheckBuildSource,
    private readonly instantiate: InstantiateBuild,
  ) {}

  async execute(namespace: string, body: unknown, dryRun = false): Promise<BuildConfig> {
    const input = parseBuildConfig(namespace, body);
    const { name, labels, annotations } = input.metadata;
    if (await this.buildConfigs.find(namespace, name)) throw ApiError.alreadyExists('BuildConfig', name);
    await this.checkSource.execute(namespace, name, input.spec);
    // A Binary BuildConfig has no files to build until an upload brings them.
    const startsBuild = input.spec.source.type !== 'Binary' && input.spec.triggers.some((t) => t.type === 'ConfigChange');
    // Stored with its first build counted: that build is made next, without reading the BuildConfig back to count it.
    const draft = { metadata: { name, namespace, labels, annotations }, spec: input.spec, status: { lastVersion: startsBuild ? 1 : 0 } };
    if (dryRun) return dryRunPreview<BuildConfig>('BuildConfig', draft);
    const created = await this.buildConfigs.create(draft);
    if (startsBuild) await this.instantiate.first(created, 'Build configuration change');
    return created;
  }
}
