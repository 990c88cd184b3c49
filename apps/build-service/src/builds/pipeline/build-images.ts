import { builderStreamTag, type Build } from '@paas/contracts/builds';
import { statusOf } from '@paas/platform/api-error';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { platformRepositoryOf } from '@paas/contracts/auth';
import { parseImageStreamTag } from '@paas/contracts/images';
import type { BuilderStreams } from '../../adapters/builder-streams';
import type { NodeEngine } from '../../nodes/build-nodes';
import type { ImageInfo } from './container-runtime';
import { BuildFailure, type BuildContext } from './roles';
import { builderRefOf, outputRepository } from './s2i-roles';

/** An image as a node's engine names it, and what the engine says of it. */
export interface ImageOnNode {
  reference: string;
  image: ImageInfo;
}

/**
 * The images a build runs besides its own, on the engine of the build's node: its builder, and
 * an incremental build's previous image. An image of the platform registry is named by digest
 * for the registry as that node reaches it, and pulled there with a pull token when the node
 * lacks it (it was built or pushed on another node, or pruned).
 */
export class BuildImages {
  constructor(
    private readonly catalog: Record<string, string>,
    /** The registry as image references name it (REGISTRY_HOST). */
    private readonly registryHost: string,
    private readonly streams: BuilderStreams,
    private readonly credentials: RegistryCredentials,
  ) {}

  /**
   * The builder a Source build names: a catalog entry (`Builder`) or a local image
   * (`DockerImage`) as named; an `ImageStreamTag` as the image the tag points at when the build
   * runs. Undefined when there is none (the assembler fails the build as BuilderImageNotFound).
   * Another namespace's tag is BuilderImageNotFound, naming the grant, unless that namespace
   * lets this one's builds pull it (asked each time, so a grant taken back holds at once, even
   * for an image the node already has); so is a pull that fails, with the engine's words.
   */
  async builderOnNode(build: Build, node: NodeEngine, signal?: AbortSignal): Promise<string | undefined> {
    const from = builderRefOf(build.spec);
    const stream = builderStreamTag(from, build.metadata.namespace);
    if (!stream) return from?.kind === 'Builder' ? (Object.hasOwn(this.catalog, from.name) ? this.catalog[from.name] : undefined) : from?.name;
    const shown = stream.namespace === build.metadata.namespace ? stream.name : `${stream.namespace}/${stream.name}`;
    if (stream.namespace !== build.metadata.namespace) {
      const refusal = await refusedPull(this.credentials, build.metadata.namespace, stream);
      if (refusal) throw new BuildFailure('BuilderImageNotFound', `builder ${shown}: ${refusal}`);
    }
    const pullSpec = await this.streams.imageOf(stream.namespace, stream.name);
    if (!pullSpec) return undefined;
    const onNode = await this.onNode(pullSpec, node, signal).catch((error: Error) => {
      throw error instanceof PullFailed ? new BuildFailure('BuilderImageNotFound', `builder ${shown} (${error.reference}) could not be pulled to node ${node.name}: ${error.message}`) : error;
    });
    return onNode.reference;
  }

  /**
   * An incremental build's previous image: the one its output tag points at now (as s2i does
   * for OpenShift, always the registry's, never an older copy the node kept). Undefined, said in
   * the build log, when the tag has no image yet or it cannot be had: the build is then made in full.
   */
  async previousOnNode(ctx: BuildContext): Promise<ImageOnNode | undefined> {
    const { repository, tag } = outputRepository(ctx.build);
    const fullBuild = async (why: string) => void (await ctx.log.write(`---> Incremental build: ${why}, building in full\n`));
    let pullSpec: string | undefined;
    try {
      pullSpec = await this.streams.imageOf(ctx.build.metadata.namespace, ctx.build.spec.output.to.name);
    } catch (error) {
      return fullBuild(`the image of ${repository}:${tag} could not be asked for (${(error as Error).message})`);
    }
    if (!pullSpec) return fullBuild(`${repository}:${tag} has no image yet`);
    const pulling = (reference: string) => ctx.log.write(`---> Incremental build: pulling the previous image ${reference} to node ${ctx.node.name}\n`);
    return this.onNode(pullSpec, ctx.node, ctx.signal, pulling).catch(async (error: Error) => {
      if (!(error instanceof PullFailed)) throw error;
      return fullBuild(`the previous image ${error.reference} could not be pulled to node ${ctx.node.name} (${error.message})`);
    });
  }

  /**
   * `pullSpec` as `node` names it, pulled there first when it lacks it (`pulling` hears of it
   * before); a pull that fails is a PullFailed, a build that ends meanwhile its signal's reason.
   */
  private async onNode(pullSpec: string, node: NodeEngine, signal?: AbortSignal, pulling?: (reference: string) => Promise<void>): Promise<ImageOnNode> {
    const reference = this.asNodeNames(pullSpec, node);
    const present = await node.runtime.inspectImage(reference);
    if (present) return { reference, image: present };
    await pulling?.(reference);
    try {
      const repository = platformRepositoryOf(reference, node.registryHost);
      const auth = repository ? await this.credentials.authConfig(repository, ['pull']) : undefined;
      await node.runtime.pull(reference, { auth, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new PullFailed(reference, (error as Error).message);
    }
    const pulled = await node.runtime.inspectImage(reference);
    if (!pulled) throw new PullFailed(reference, 'the engine does not have it after the pull');
    return { reference, image: pulled };
  }

  /** An image of the platform registry named for the registry as `node` reaches it; any other as it is. */
  private asNodeNames(pullSpec: string, node: NodeEngine): string {
    return pullSpec.startsWith(`${this.registryHost}/`) ? `${node.registryHost}${pullSpec.slice(this.registryHost.length)}` : pullSpec;
  }
}

/**
 * Why the builds of `namespace` may not pull the stream tag of another namespace (the gateway's
 * 403 for a token asked `forBuildsOf` them); undefined when they may. Any other failure is thrown.
 */
export async function refusedPull(credentials: RegistryCredentials, namespace: string, stream: { namespace: string; name: string }): Promise<string | undefined> {
  try {
    await credentials.authConfig(`${stream.namespace}/${parseImageStreamTag(stream.name).stream}`, ['pull'], { forBuildsOf: namespace });
    return undefined;
  } catch (error) {
    if (statusOf(error).code === 403) return (error as Error).message;
    throw error;
  }
}

/** An image the node's engine could not pull (or no token could be had for), with the reason. */
class PullFailed extends Error {
  constructor(
    readonly reference: string,
    message: string,
  ) {
    super(message);
  }
}
