import { Inject, Injectable, Logger } from '@nestjs/common';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Build } from '@paas/contracts/builds';
import { isNodeReady, type Node } from '@paas/contracts/nodes';
import { withinTime } from '@paas/platform/docker-engines';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BUILD_NODES, type BuildNodes } from '../nodes/build-nodes';
import { ENGINE_CALL_TIMEOUT_MS } from './build-containers';
import { BUILD_CONTAINER_PREFIX, type ContainerSummary } from './pipeline/container-runtime';
import { WARM_BUILD_KEY } from './pipeline/s2i-roles';
import { BuildRepository, type BuildStore } from './build.repository';

const IN_FLIGHT: Build['status']['phase'][] = ['New', 'Pending', 'Running'];

/**
 * Build containers (of this platform instance) and scratch directories whose build is gone,
 * finished, or now placed on another node are removed, whatever stopped before it could: on
 * start-up on every Ready node, and on a node each time it turns Ready (it may come back
 * holding the container of a build it lost). Those of builds still in flight on that node stay:
 * another replica may be running them, and the BuildController decides when a runner is gone.
 */
@Injectable()
export class RemoveBuildLeftovers {
  private readonly logger = new Logger(RemoveBuildLeftovers.name);

  constructor(
    @Inject(BuildRepository) private readonly builds: Pick<BuildStore, 'list'>,
    @Inject(BUILD_NODES) private readonly nodes: Pick<BuildNodes, 'list' | 'engine' | 'onChange'>,
    @Inject(BUILD_SETTINGS) private readonly settings: Pick<BuildSettings, 'buildsDir'>,
  ) {}

  /** Sweeps each node as it turns Ready (a node first seen Ready included); returns a function that stops it. */
  watchNodes(): () => void {
    return this.nodes.onChange(({ type, object, previous }) => {
      if (type === 'DELETED' || !isNodeReady(object) || isNodeReady(previous)) return;
      void this.sweep([object]).catch((error: Error) => this.logger.warn({ msg: `build leftovers on node ${object.metadata.name} not removed: ${error.message}` }));
    });
  }

  /** Every Ready node, and the scratch directories. */
  async execute(): Promise<void> {
    await this.sweep(this.nodes.list().filter(isNodeReady));
    const inFlight = new Set((await this.builds.list()).filter((b) => IN_FLIGHT.includes(b.status.phase)).map((b) => `${b.metadata.namespace}.${b.metadata.name}`));
    // Scratch directories are `<ns>.<name>-<random>`.
    const workRoot = path.join(this.settings.buildsDir, 'work');
    const entries = await readdir(workRoot).catch(() => [] as string[]);
    for (const entry of entries.filter((e) => !inFlight.has(e.slice(0, e.lastIndexOf('-'))))) {
      await rm(path.join(workRoot, entry), { recursive: true, force: true });
    }
  }

  /** On each of `nodes`: the build containers not of a build in flight there. A node that does not answer is left for its next sweep. */
  private async sweep(nodes: Node[]): Promise<void> {
    if (!nodes.length) return;
    // `<ns>.<name>` → the node it is placed on ('' before it is placed).
    const inFlight = new Map((await this.builds.list()).filter((b) => IN_FLIGHT.includes(b.status.phase)).map((b) => [`${b.metadata.namespace}.${b.metadata.name}`, b.status.nodeName ?? '']));
    await Promise.all(
      nodes.map(async (node) => {
        const name = node.metadata.name;
        const engine = this.nodes.engine(name);
        if (!engine) return;
        try {
          for (const container of await withinTime(engine.runtime.listBuildContainers({ 'paas.dev/managed-by': 'build-service' }), ENGINE_CALL_TIMEOUT_MS)) {
            const placedOn = inFlight.get(buildKeyOf(container));
            // A build in flight and not yet placed (waiting, or between attempts) may have left it here: kept until it is placed.
            if (placedOn === name || placedOn === '') continue;
            this.logger.log({ msg: `removing leftover build container ${container.name} on node ${name}` });
            await withinTime(engine.runtime.remove(container.id), ENGINE_CALL_TIMEOUT_MS);
          }
        } catch (error) {
          this.logger.warn({ msg: `build leftovers on node ${name} not removed: ${(error as Error).message}` });
        }
      }),
    );
  }
}

/**
 * The build (`<ns>.<name>`) a build container is of: its label's, or, for a builder container
 * started ahead (WarmBuilders), its name's once a build claimed it (`paas-build-<ns>.<name>`;
 * one still waiting has none in flight, and goes).
 */
function buildKeyOf(container: ContainerSummary): string {
  const key = container.labels['paas.dev/build'];
  return key === WARM_BUILD_KEY ? container.name.slice(BUILD_CONTAINER_PREFIX.length) : key;
}
