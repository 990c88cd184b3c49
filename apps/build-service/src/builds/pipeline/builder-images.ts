import type { Build } from '@paas/contracts/builds';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { platformRepositoryOf } from '@paas/contracts/auth';
import type { BuilderStreams } from '../../adapters/builder-streams';
import type { NodeEngine } from '../../nodes/build-nodes';
import { BuildFailure } from './roles';
import { builderRefOf } from './s2i-roles';

/**
 * The image a Source build's builder names, on the engine of the build's node: a catalog entry
 * (`Builder`) or a local image (`DockerImage`) as named; an `ImageStreamTag` of the build's
 * namespace as the image the tag points at when the build runs (by digest), named for the
 * registry as that node reaches it, and pulled there with a pull token when the node lacks it.
 * Undefined when there is none (the assembler fails the build as BuilderImageNotFound).
 */
export class BuilderImages {
  constructor(
    private readonly catalog: Record<string, string>,
    /** The registry as image references name it (REGISTRY_HOST). */
    private readonly registryHost: string,
    private readonly streams: BuilderStreams,
    private readonly credentials: RegistryCredentials,
  ) {}

  async onNode(build: Build, node: NodeEngine, signal?: AbortSignal): Promise<string | undefined> {
    const from = builderRefOf(build.spec);
    if (!from) return undefined;
    if (from.kind === 'Builder') return Object.hasOwn(this.catalog, from.name) ? this.catalog[from.name] : undefined;
    if (from.kind === 'DockerImage') return from.name;
    const pullSpec = await this.streams.imageOf(build.metadata.namespace, from.name);
    if (!pullSpec) return undefined;
    const reference = pullSpec.startsWith(`${this.registryHost}/`) ? `${node.registryHost}${pullSpec.slice(this.registryHost.length)}` : pullSpec;
    if (await node.runtime.inspectImage(reference)) return reference;
    const repository = platformRepositoryOf(reference, node.registryHost);
    try {
      const auth = repository ? await this.credentials.authConfig(repository, ['pull']) : undefined;
      await node.runtime.pull(reference, { auth, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new BuildFailure('BuilderImageNotFound', `builder ${from.name} (${reference}) could not be pulled to node ${node.name}: ${(error as Error).message}`);
    }
    return reference;
  }
}
