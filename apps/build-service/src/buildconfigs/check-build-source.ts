import { Inject, Injectable } from '@nestjs/common';
import type { BuildConfigSpec } from '@paas/contracts/builds';
import type { StatusCause } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { GIT, GitError, type Git } from '../adapters/git-cli';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { CONTAINER_RUNTIME, type ContainerRuntime } from '../builds/pipeline/container-runtime';
import { redactCredentials } from '../builds/pipeline/redact-credentials';
import { builderImageOf } from '../builds/pipeline/strategy-factory';

const BUILDER_FIELD = 'spec.strategy.sourceStrategy.from.name';

/**
 * What the schema cannot see: that the builder image exists on the build host and that the
 * git repository answers and has the ref. Both are asked at once; every problem found
 * comes back in one 422 naming its field.
 */
@Injectable()
export class CheckBuildSource {
  constructor(
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(GIT) private readonly git: Git,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
  ) {}

  async execute(name: string, spec: BuildConfigSpec): Promise<void> {
    const causes = (await Promise.all([this.checkBuilder(spec), this.checkGit(spec)])).flat();
    if (causes.length) {
      const summary = causes.map((c) => `${c.field}: ${c.message}`).join('; ');
      throw ApiError.of('Invalid', `BuildConfig "${name}" is invalid: ${summary}`, { kind: 'BuildConfig', name, causes });
    }
  }

  private async checkBuilder(spec: BuildConfigSpec): Promise<StatusCause[]> {
    const { from } = spec.strategy.sourceStrategy;
    const image = builderImageOf(from, this.settings.builders);
    if (!image) return [{ field: BUILDER_FIELD, reason: 'NotFound', message: `unknown builder "${from.name}"; available: ${Object.keys(this.settings.builders).join(', ')}` }];
    const found = await this.runtime.inspectImage(image).catch((error: Error) => {
      throw ApiError.of('ServiceUnavailable', `the build host's container engine is not available: ${error.message}`);
    });
    if (found) return [];
    const message = from.kind === 'Builder' ? `builder "${from.name}" (${image}) is not installed on the build host` : `image "${image}" does not exist on the build host`;
    return [{ field: BUILDER_FIELD, reason: 'NotFound', message }];
  }

  private async checkGit(spec: BuildConfigSpec): Promise<StatusCause[]> {
    const { uri, ref } = spec.source.git;
    const shownUri = redactCredentials(uri);
    try {
      await this.git.checkRef(uri, ref, this.settings.gitCheckTimeoutMs);
      return [];
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      if (error.kind === 'ref-not-found') return [{ field: 'spec.source.git.ref', reason: 'NotFound', message: `${redactCredentials(error.message)} ${shownUri}` }];
      return [{ field: 'spec.source.git.uri', reason: 'Unreachable', message: `${shownUri}: ${redactCredentials(error.message)}` }];
    }
  }
}
