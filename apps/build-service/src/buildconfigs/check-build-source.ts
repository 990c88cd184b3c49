import { Inject, Injectable } from '@nestjs/common';
import { BUILDS_INTO_ITS_BUILDER, builderStreamTag, isGitSource, type BuildConfigSpec } from '@paas/contracts/builds';
import type { StatusCause } from '@paas/contracts/status';
import { isNodeSchedulable } from '@paas/contracts/nodes';
import { ApiError } from '@paas/platform/api-error';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { withinTime } from '@paas/platform/docker-engines';
import { GIT, GitError, type Git, type GitCredentials } from '../adapters/git-cli';
import { SOURCE_SECRETS, SourceSecretError, type SourceSecrets } from '../adapters/source-secrets';
import { BUILDER_STREAMS, type BuilderStreams } from '../adapters/builder-streams';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BUILD_NODES, type BuildNodes } from '../nodes/build-nodes';
import { redactCredentials } from '../builds/pipeline/redact-credentials';
import { refusedPull } from '../builds/pipeline/build-images';
import { REGISTRY_CREDENTIALS, type ContainerRuntime, type ImageInfo } from '../builds/pipeline/container-runtime';
import { builderRefOf } from '../builds/pipeline/s2i-roles';

const BUILDER_FIELD = 'spec.strategy.sourceStrategy.from.name';
/** How long one node's engine may take to say whether it has the builder image. */
const IMAGE_CHECK_TIMEOUT_MS = 3_000;

/** What each engine says of `image`, at once; one that does not answer within IMAGE_CHECK_TIMEOUT_MS is a rejection. */
export function inspectOnEach(runtimes: ContainerRuntime[], image: string): Promise<PromiseSettledResult<ImageInfo | undefined>[]> {
  return Promise.allSettled(runtimes.map((runtime) => withinTime(runtime.inspectImage(image), IMAGE_CHECK_TIMEOUT_MS)));
}

/** A repository on the build host's own disk: an absolute path or a file:// URL. */
export function isLocalSource(uri: string): boolean {
  return uri.startsWith('/') || /^file:\/\//i.test(uri);
}

/**
 * What the schema cannot see: that the strategy is allowed here, that the builder image exists
 * on a node builds can run on (a builder stream tag: that it points at an image, and that the
 * namespace's builds may pull it when it is another namespace's), and that the
 * git repository answers and has the ref (with the source secret, when there is one). All are
 * asked at once; every problem found comes back in one 422 naming its field. With no node to
 * build on right now, the image cannot be asked for: the catalog check stands alone, and the
 * build itself waits for a node.
 */
@Injectable()
export class CheckBuildSource {
  constructor(
    @Inject(BUILD_NODES) private readonly nodes: Pick<BuildNodes, 'list' | 'engine'>,
    @Inject(GIT) private readonly git: Git,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
    @Inject(SOURCE_SECRETS) private readonly secrets: SourceSecrets,
    @Inject(BUILDER_STREAMS) private readonly streams: BuilderStreams,
    @Inject(REGISTRY_CREDENTIALS) private readonly credentials: RegistryCredentials,
  ) {}

  /** `namespace`: the BuildConfig's, where its source secret must be. */
  async execute(namespace: string, name: string, spec: BuildConfigSpec): Promise<void> {
    const causes = (await Promise.all([this.checkStrategy(spec), this.checkBuilder(namespace, spec), this.checkGit(namespace, spec)])).flat();
    if (causes.length) {
      const summary = causes.map((c) => `${c.field}: ${c.message}`).join('; ');
      throw ApiError.of('Invalid', `BuildConfig "${name}" is invalid: ${summary}`, { kind: 'BuildConfig', name, causes });
    }
  }

  private async checkStrategy({ strategy }: BuildConfigSpec): Promise<StatusCause[]> {
    if (this.settings.strategies.includes(strategy.type)) return [];
    const message = `the ${strategy.type} strategy is turned off here (BUILD_STRATEGIES=${this.settings.strategies.join(',')})`;
    return [{ field: 'spec.strategy.type', reason: 'Forbidden', message }];
  }

  private async checkBuilder(namespace: string, spec: BuildConfigSpec): Promise<StatusCause[]> {
    const from = builderRefOf(spec);
    // A Docker build's FROM images are the engine's to find when it builds.
    if (!from) return [];
    const stream = builderStreamTag(from, namespace);
    if (stream) return this.checkBuilderStream(namespace, stream, spec);
    const image = from.kind === 'Builder' ? (Object.hasOwn(this.settings.builders, from.name) ? this.settings.builders[from.name] : undefined) : from.name;
    if (!image) return [{ field: BUILDER_FIELD, reason: 'NotFound', message: `unknown builder "${from.name}"; available: ${Object.keys(this.settings.builders).join(', ')}` }];
    const engines = this.nodes.list().filter(isNodeSchedulable).flatMap((node) => this.nodes.engine(node.metadata.name) ?? []);
    if (!engines.length) return [];
    const answers = await inspectOnEach(engines.map((engine) => engine.runtime), image);
    if (answers.some((answer) => answer.status === 'fulfilled' && answer.value)) return [];
    const unanswered = answers.flatMap((answer, i) => (answer.status === 'rejected' ? [`${engines[i].name}: ${(answer.reason as Error).message}`] : []));
    if (unanswered.length === engines.length) throw ApiError.of('ServiceUnavailable', `no build node's container engine answered: ${unanswered.join('; ')}`);
    const where = `on any build node (${engines.map((engine) => engine.name).join(', ')})`;
    const message = from.kind === 'Builder' ? `builder "${from.name}" (${image}) is not installed ${where}` : `image "${image}" does not exist ${where}`;
    return [{ field: BUILDER_FIELD, reason: 'NotFound', message }];
  }

  /** Asked in that order: nothing is said of another namespace's tags to builds it does not let pull them. */
  private async checkBuilderStream(namespace: string, stream: { namespace: string; name: string }, spec: BuildConfigSpec): Promise<StatusCause[]> {
    if (stream.namespace !== namespace) {
      const refusal = await refusedPull(this.credentials, namespace, stream);
      if (refusal) return [{ field: 'spec.strategy.sourceStrategy.from.namespace', reason: 'Forbidden', message: refusal }];
    } else if (stream.name === spec.output.to.name) {
      return [{ field: 'spec.output.to.name', reason: 'Invalid', message: BUILDS_INTO_ITS_BUILDER }];
    }
    if (await this.streams.imageOf(stream.namespace, stream.name)) return [];
    return [{ field: BUILDER_FIELD, reason: 'NotFound', message: `image stream tag "${stream.name}" does not exist in namespace ${stream.namespace}, or has no image yet` }];
  }

  private async checkGit(namespace: string, spec: BuildConfigSpec): Promise<StatusCause[]> {
    // A Binary source has nothing to reach: its files come with each build.
    if (!isGitSource(spec.source)) return [];
    const { uri, ref } = spec.source.git;
    if (!this.settings.allowLocalSources && isLocalSource(uri)) {
      const message = `${uri}: a repository on the build host's disk is refused here (BUILD_LOCAL_SOURCES=allow on a development machine); use an https, ssh or git URL`;
      return [{ field: 'spec.source.git.uri', reason: 'Forbidden', message }];
    }
    const shownUri = redactCredentials(uri);
    let credentials: GitCredentials | undefined;
    try {
      credentials = await this.secrets.credentials(namespace, spec.source);
    } catch (error) {
      if (!(error instanceof SourceSecretError)) throw error;
      return [{ field: 'spec.source.sourceSecret.name', reason: error.reason, message: error.message }];
    }
    try {
      await this.git.checkRef(uri, ref, this.settings.gitCheckTimeoutMs, credentials);
      return [];
    } catch (error) {
      if (!(error instanceof GitError)) throw error;
      if (error.kind === 'ref-not-found') return [{ field: 'spec.source.git.ref', reason: 'NotFound', message: `${redactCredentials(error.message)} ${shownUri}` }];
      return [{ field: 'spec.source.git.uri', reason: 'Unreachable', message: `${shownUri}: ${redactCredentials(error.message)}` }];
    }
  }
}
