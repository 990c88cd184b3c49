import { buildContainerResources, type DockerBuildStrategy } from '@paas/contracts/builds';
import { ImageBuildError, type ContainerRuntime } from './container-runtime';
import { BuildFailure, type BuildContext, type FetchedSource, type ImageBuilder } from './roles';
import { buildContainerLabels, buildContainerName, outputRepository, provenanceLabels } from './s2i-roles';

const FAILURE_TAIL_LINES = 10;

/**
 * The Docker strategy: the source's own Dockerfile, built by the engine of the build's node
 * with the source tree (at `contextDir`) as its context, tagged for the registry as that node
 * reaches it, labelled as an s2i build is (provenance, the platform's build labels). The image
 * runs as its Dockerfile says: its `CMD`, its `USER`.
 */
export class DockerImageBuilder implements ImageBuilder {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly registryHost: string,
    private readonly strategy: DockerBuildStrategy['dockerStrategy'],
  ) {}

  async build(ctx: BuildContext, source: FetchedSource) {
    const { build } = ctx;
    const { dockerfilePath, buildArgs, noCache } = this.strategy;
    if ((await source.readFile(dockerfilePath)) === undefined) {
      const { contextDir } = build.spec.source;
      const where = contextDir ? ` of the context directory "${contextDir}"` : '';
      throw new BuildFailure('DockerfileNotFound', `commit ${source.revision.commit.slice(0, 12)} has no file "${dockerfilePath}"${where} (spec.strategy.dockerStrategy.dockerfilePath)`);
    }
    const output = outputRepository(build);
    const imageReference = `${this.registryHost}/${output.repository}:${output.tag}`;
    await ctx.log.write(`---> Building ${dockerfilePath} as ${imageReference}${noCache ? ' (no cache)' : ''}\n`);
    const imageId = await this.runtime
      .buildImage({
        context: source.archive(),
        dockerfile: dockerfilePath,
        tag: imageReference,
        buildArgs: Object.fromEntries(buildArgs.map((arg) => [arg.name, arg.value])),
        labels: { ...provenanceLabels(build, source), ...buildContainerLabels(build) },
        name: buildContainerName(build),
        resources: buildContainerResources(build.spec),
        noCache,
        onOutput: (text) => ctx.log.write(text),
        signal: ctx.signal,
      })
      .catch((error: Error) => {
        if (!(error instanceof ImageBuildError)) throw error;
        throw new BuildFailure('DockerBuildFailed', `${error.message}:\n${ctx.log.tail(FAILURE_TAIL_LINES)}`);
      });
    const image = await this.runtime.inspectImage(imageId);
    return { imageReference, user: image?.user ?? '' };
  }
}
