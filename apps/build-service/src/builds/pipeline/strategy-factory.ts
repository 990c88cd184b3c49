import { Inject, Injectable } from '@nestjs/common';
import type { Build } from '@paas/contracts/builds';
import { BUILDER_STREAMS, type BuilderStreams } from '../../adapters/builder-streams';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { GIT, type Git } from '../../adapters/git-cli';
import { SOURCE_SECRETS, type SourceSecrets } from '../../adapters/source-secrets';
import { BUILD_SETTINGS, type BuildSettings } from '../../build-settings';
import type { NodeEngine } from '../../nodes/build-nodes';
import { REGISTRY_CREDENTIALS } from './container-runtime';
import { DockerImageBuilder } from './docker-roles';
import { BINARY_INPUTS, type BinaryInputs } from '@paas/platform/binary-inputs';
import { BinarySourceFetcher } from './binary-source-fetcher';
import { GitSourceFetcher } from './git-source-fetcher';
import { BuildImages } from './build-images';
import type { BuildStrategy } from './roles';
import { RegistryPusher, S2IAssembler, S2ICommitter, S2IPostCommitHook, type BuilderImageResolver } from './s2i-roles';
import { WarmBuilders } from './warm-builders';


/** Picks the roles a build's strategy is made of (Source: S2I; Docker: the engine's build), on the engine of the node it runs on. */
@Injectable()
export class BuildStrategyFactory {
  constructor(
    @Inject(GIT) private readonly git: Git,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
    @Inject(REGISTRY_CREDENTIALS) private readonly credentials: RegistryCredentials,
    @Inject(SOURCE_SECRETS) private readonly secrets: SourceSecrets,
    @Inject(BUILDER_STREAMS) streams: BuilderStreams,
    @Inject(BINARY_INPUTS) private readonly binaryInputs: BinaryInputs,
    @Inject(WarmBuilders) private readonly warm: WarmBuilders,
  ) {
    this.images = new BuildImages(settings.builders, settings.registryHost, streams, credentials);
  }

  private readonly images: BuildImages;

  forBuild(build: Build, node: NodeEngine): BuildStrategy {
    const { strategy } = build.spec;
    const sourceFetcher = (options: { s2i: boolean }) =>
      build.spec.source.type === 'Binary' ? new BinarySourceFetcher(this.git, this.binaryInputs, this.settings.binaryLimits, options) : new GitSourceFetcher(this.git, this.secrets, options);
    const common = { postCommit: new S2IPostCommitHook(node.runtime), pusher: new RegistryPusher(node.runtime, this.credentials) };
    switch (strategy.type) {
      case 'Source': {
        // Resolved (and pulled) once per build, when assemble first asks; anew when the image turned out gone.
        let resolved: Promise<string | undefined> | undefined;
        const builderImage: BuilderImageResolver = (b, { again = false } = {}) => (resolved = !resolved || again ? this.images.builderOnNode(b, node) : resolved);
        return {
          ...common,
          type: 'Source',
          source: sourceFetcher({ s2i: true }),
          assembler: new S2IAssembler(node.runtime, builderImage, (ctx) => this.images.previousOnNode(ctx), node.name, this.settings.warmContainers ? this.warm : undefined),
          // Named for the registry as this node reaches it: the engine pushes there.
          committer: new S2ICommitter(node.runtime, node.registryHost, builderImage),
        };
      }
      case 'Docker':
        return { ...common, type: 'Docker', source: sourceFetcher({ s2i: false }), builder: new DockerImageBuilder(node.runtime, node.registryHost, strategy.dockerStrategy) };
    }
  }
}
