import { Inject, Injectable } from '@nestjs/common';
import type { Build, BuilderRef } from '@paas/contracts/builds';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { GIT, type Git } from '../../adapters/git-cli';
import { SOURCE_SECRETS, type SourceSecrets } from '../../adapters/source-secrets';
import { BUILD_SETTINGS, type BuildSettings } from '../../build-settings';
import type { NodeEngine } from '../../nodes/build-nodes';
import { REGISTRY_CREDENTIALS } from './container-runtime';
import { DockerImageBuilder } from './docker-roles';
import { GitSourceFetcher } from './git-source-fetcher';
import type { BuildStrategy } from './roles';
import { RegistryPusher, S2IAssembler, S2ICommitter, S2IPostCommitHook } from './s2i-roles';

/** The image a builder reference runs: a catalog entry (`Builder`) or any local image (`DockerImage`). */
export function builderImageOf(from: BuilderRef, catalog: Record<string, string>): string | undefined {
  return from.kind === 'Builder' ? (Object.hasOwn(catalog, from.name) ? catalog[from.name] : undefined) : from.name;
}

/** Picks the roles a build's strategy is made of (Source: S2I; Docker: the engine's build), on the engine of the node it runs on. */
@Injectable()
export class BuildStrategyFactory {
  constructor(
    @Inject(GIT) private readonly git: Git,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
    @Inject(REGISTRY_CREDENTIALS) private readonly credentials: RegistryCredentials,
    @Inject(SOURCE_SECRETS) private readonly secrets: SourceSecrets,
  ) {}

  forBuild(build: Build, node: NodeEngine): BuildStrategy {
    const { strategy } = build.spec;
    const common = { postCommit: new S2IPostCommitHook(node.runtime), pusher: new RegistryPusher(node.runtime, this.credentials) };
    switch (strategy.type) {
      case 'Source': {
        const builderImage = () => builderImageOf(strategy.sourceStrategy.from, this.settings.builders);
        return {
          ...common,
          type: 'Source',
          source: new GitSourceFetcher(this.git, this.secrets),
          assembler: new S2IAssembler(node.runtime, builderImage, node.name),
          // Named for the registry as this node reaches it: the engine pushes there.
          committer: new S2ICommitter(node.runtime, node.registryHost, builderImage),
        };
      }
      case 'Docker':
        return { ...common, type: 'Docker', source: new GitSourceFetcher(this.git, this.secrets, { s2i: false }), builder: new DockerImageBuilder(node.runtime, node.registryHost, strategy.dockerStrategy) };
    }
  }
}
