import { Inject, Injectable, Logger } from '@nestjs/common';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { BUILD_IMAGE_LABELS, BUILD_MANAGER, type Build } from '@paas/contracts/builds';
import { isNodeReady, type Node } from '@paas/contracts/nodes';
import { withinTime } from '@paas/platform/docker-engines';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BUILD_NODES, type BuildNodes } from '../nodes/build-nodes';
import { ENGINE_CALL_TIMEOUT_MS } from './build-containers';
import { BuildRepository, type BuildStore } from './build.repository';

const IN_FLIGHT: Build['status']['phase'][] = ['New', 'Pending', 'Running'];
/** Build caches are also swept this often (on a node turning Ready, and at start, as well). */
const CACHE_SWEEP_MS = 3_600_000;

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
    @Inject(BUILD_SETTINGS) private readonly settings: Pick<BuildSettings, 'buildsDir' | 'cacheMaxAgeMs'>,
  ) {}

  /** Sweeps each node as it turns Ready (a node first seen Ready included), and every Ready node's build caches each CACHE_SWEEP_MS; returns a function that stops it. */
  watchNodes(): () => void {
    const unwatch = this.nodes.onChange(({ type, object, previous }) => {
      if (type === 'DELETED' || !isNodeReady(object) || isNodeReady(previous)) return;
      void this.sweep([object]).catch((error: Error) => this.logger.warn({ msg: `build leftovers on node ${object.metadata.name} not removed: ${error.message}` }));
    });
    const timer = setInterval(() => {
      void this.sweepCaches(this.nodes.list().filter(isNodeReady)).catch((error: Error) => this.logger.warn({ msg: `build caches not swept: ${error.message}` }));
    }, CACHE_SWEEP_MS).unref();
    return () => {
      unwatch();
      clearInterval(timer);
    };
  }

  /** The build caches of `namespace` on every Ready node, once it has no build left (its BuildConfigs, or itself, deleted); one still in use stays for the next sweep. */
  async removeCaches(namespace: string): Promise<void> {
    await Promise.all(
      this.nodes.list().filter(isNodeReady).map(async (node) => {
        const engine = this.nodes.engine(node.metadata.name);
        if (!engine) return;
        try {
          for (const volume of await withinTime(engine.runtime.listCacheVolumes({ [BUILD_IMAGE_LABELS.cacheNamespace]: namespace, [BUILD_IMAGE_LABELS.managedBy]: BUILD_MANAGER }), ENGINE_CALL_TIMEOUT_MS)) {
            if (await withinTime(engine.runtime.removeVolume(volume.name), ENGINE_CALL_TIMEOUT_MS)) this.logger.log({ msg: `removed build cache ${volume.name} on node ${node.metadata.name} (namespace ${namespace} has no build)` });
          }
        } catch (error) {
          this.logger.warn({ msg: `build caches of ${namespace} on node ${node.metadata.name} not removed: ${(error as Error).message}` });
        }
      }),
    );
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

  /** On each of `nodes`: the build containers not of a build in flight there, then the build caches no longer wanted. A node that does not answer is left for its next sweep. */
  private async sweep(nodes: Node[]): Promise<void> {
    if (!nodes.length) return;
    await this.sweepContainers(nodes);
    await this.sweepCaches(nodes);
  }

  /**
   * On each of `nodes`: the build cache volumes of namespaces that have no build any more (the
   * namespace, or its BuildConfigs, deleted), and those older than `cacheMaxAgeMs` (so that a
   * namespace's cache, which only grows, starts afresh). One a build still uses stays, for the next sweep.
   */
  private async sweepCaches(nodes: Node[]): Promise<void> {
    if (!nodes.length) return;
    const building = new Set((await this.builds.list()).map((b) => b.metadata.namespace));
    const tooOld = Date.now() - this.settings.cacheMaxAgeMs;
    await Promise.all(
      nodes.map(async (node) => {
        const engine = this.nodes.engine(node.metadata.name);
        if (!engine) return;
        try {
          for (const volume of await withinTime(engine.runtime.listCacheVolumes({ [BUILD_IMAGE_LABELS.managedBy]: BUILD_MANAGER }), ENGINE_CALL_TIMEOUT_MS)) {
            const namespace = volume.labels[BUILD_IMAGE_LABELS.cacheNamespace];
            const why = !building.has(namespace) ? `namespace ${namespace} has no build` : Date.parse(volume.createdAt) < tooOld ? `made ${volume.createdAt}` : undefined;
            if (why && (await withinTime(engine.runtime.removeVolume(volume.name), ENGINE_CALL_TIMEOUT_MS))) {
              this.logger.log({ msg: `removed build cache ${volume.name} on node ${node.metadata.name} (${why})` });
            }
          }
        } catch (error) {
          this.logger.warn({ msg: `build caches on node ${node.metadata.name} not swept: ${(error as Error).message}` });
        }
      }),
    );
  }

  private async sweepContainers(nodes: Node[]): Promise<void> {
    // `<ns>.<name>` → the node it is placed on ('' before it is placed).
    const inFlight = new Map((await this.builds.list()).filter((b) => IN_FLIGHT.includes(b.status.phase)).map((b) => [`${b.metadata.namespace}.${b.metadata.name}`, b.status.nodeName ?? '']));
    await Promise.all(
      nodes.map(async (node) => {
        const name = node.metadata.name;
        const engine = this.nodes.engine(name);
        if (!engine) return;
        try {
          for (const container of await withinTime(engine.runtime.listBuildContainers({ 'paas.dev/managed-by': 'build-service' }), ENGINE_CALL_TIMEOUT_MS)) {
            const placedOn = inFlight.get(container.labels['paas.dev/build']);
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
