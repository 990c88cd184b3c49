import { Inject, Injectable } from '@nestjs/common';
import { BUILD_IMAGE_LABELS, BUILD_MANAGER, type CatalogBuilder, type CatalogBuilderList } from '@paas/contracts/builds';
import { isNodeSchedulable } from '@paas/contracts/nodes';
import { INSTANCE_LABEL, loadConfig } from '@paas/platform/config';
import { randomUUID } from 'node:crypto';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BUILD_CONTAINER_PREFIX, type ContainerRuntime, type ImageInfo } from '../builds/pipeline/container-runtime';
import { assembleUser, OPTIONAL_SCRIPT, s2iPaths } from '../builds/pipeline/s2i-roles';
import { BUILD_NODES, type BuildNodes } from '../nodes/build-nodes';
import { inspectOnEach } from './check-build-source';
import { BUILDER_MARKERS } from './detect-strategy.usecase';

/** A usage script gets this long, this much memory and no network; what it prints past USAGE_MAX_CHARS is cut. */
const USAGE_TIMEOUT_MS = 10_000;
const USAGE_MEMORY_BYTES = 64 << 20;
const USAGE_MAX_CHARS = 16_384;
/** Its container is a build container of no build: the leftover sweep removes one left behind. */
const USAGE_BUILD_KEY = 'usage';

/**
 * The builder catalog, each entry with what its image says of itself (the labels s2i builder
 * images carry) and what its s2i `usage` script prints, as `s2i usage` runs it: in a container
 * of the image on a schedulable node that has it, as the image's (never root) user, without a
 * network. The text is kept per image id, so it runs once per builder release.
 */
@Injectable()
export class DescribeBuilders {
  private readonly usages = new Map<string, Promise<string | undefined>>();

  constructor(
    @Inject(BUILD_SETTINGS) private readonly settings: Pick<BuildSettings, 'builders'>,
    @Inject(BUILD_NODES) private readonly nodes: Pick<BuildNodes, 'list' | 'engine'>,
  ) {}

  async execute(): Promise<CatalogBuilderList> {
    const runtimes = this.nodes.list().filter(isNodeSchedulable).flatMap((node) => this.nodes.engine(node.metadata.name)?.runtime ?? []);
    const items = await Promise.all(Object.entries(this.settings.builders).map(([name, image]) => this.describe(name, image, runtimes)));
    return { apiVersion: 'v1', kind: 'BuilderList', items };
  }

  private async describe(name: string, image: string, runtimes: ContainerRuntime[]): Promise<CatalogBuilder> {
    const described: CatalogBuilder = { name, image, tags: [], detectedBy: BUILDER_MARKERS[name] ?? [] };
    const found = await firstHaving(runtimes, image);
    if (!found) return described;
    const { labels } = found.info;
    const usage = await this.usageOf(found.runtime, image, found.info);
    return {
      ...described,
      ...(labels['io.k8s.display-name'] ? { displayName: labels['io.k8s.display-name'] } : {}),
      ...(labels['io.k8s.description'] ? { description: labels['io.k8s.description'] } : {}),
      tags: (labels['io.openshift.tags'] ?? '').split(',').filter(Boolean),
      ...(usage === undefined ? {} : { usage }),
    };
  }

  /** Once per image id; a run that could not be made is tried again by the next caller. */
  private usageOf(runtime: ContainerRuntime, image: string, info: ImageInfo): Promise<string | undefined> {
    let usage = this.usages.get(info.id);
    if (!usage) {
      usage = runUsage(runtime, image, info).catch(() => {
        this.usages.delete(info.id);
        return undefined;
      });
      this.usages.set(info.id, usage);
    }
    return usage;
  }
}

/** The first runtime that has `image`, with what it says of it; one that does not answer in time counts as not having it. */
async function firstHaving(runtimes: ContainerRuntime[], image: string): Promise<{ runtime: ContainerRuntime; info: ImageInfo } | undefined> {
  const answers = await inspectOnEach(runtimes, image);
  const index = answers.findIndex((answer) => answer.status === 'fulfilled' && answer.value);
  return index === -1 ? undefined : { runtime: runtimes[index], info: (answers[index] as PromiseFulfilledResult<ImageInfo>).value };
}

/** The usage script's output; undefined when the image has none or it fails (its exit code is not 0). Its container is removed however it ends. */
async function runUsage(runtime: ContainerRuntime, image: string, info: ImageInfo): Promise<string | undefined> {
  const name = `${BUILD_CONTAINER_PREFIX}${USAGE_BUILD_KEY}-${randomUUID().slice(0, 8)}`;
  let output = '';
  try {
    const { exitCode } = await runtime.run({
      name,
      image,
      entrypoint: ['/bin/sh', '-c'],
      cmd: [OPTIONAL_SCRIPT, 'usage', s2iPaths(info.labels, []).usage],
      env: [],
      user: assembleUser(info).user,
      labels: { [BUILD_IMAGE_LABELS.build]: USAGE_BUILD_KEY, [BUILD_IMAGE_LABELS.managedBy]: BUILD_MANAGER, [INSTANCE_LABEL]: loadConfig().instance },
      resources: { memoryBytes: USAGE_MEMORY_BYTES, networkDisabled: true },
      onOutput: async (chunk) => {
        if (output.length < USAGE_MAX_CHARS) output += chunk.toString();
      },
      signal: AbortSignal.timeout(USAGE_TIMEOUT_MS),
    });
    return exitCode === 0 ? output.slice(0, USAGE_MAX_CHARS) : undefined;
  } finally {
    await runtime.remove(name);
  }
}
