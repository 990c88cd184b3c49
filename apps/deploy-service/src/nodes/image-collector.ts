import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { isNodeReady, NODE_SCOPE, type Node } from '@paas/contracts/nodes';
import { loadConfig } from '@paas/platform/config';
import { withinTime } from '@paas/platform/docker-engines';
import { processMetrics, type MetricsRegistry } from '@paas/platform/metrics';
import { ShardOwnership } from '@paas/platform/shard-ownership';
import { asTheNodeNamesIt } from '../adapters/docker-runtime';
import { canonicalReference, type NodeImage, type NodeImages } from '../adapters/node-images';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { imagesToKeep, imagesToRemove } from './image-gc';
import { NodeEngines, type NodeEngine } from './node-engines';

/** Longest one call to a node's engine may take in a round (a listing, the sizes, one removal). */
const ENGINE_CALL_TIMEOUT_MS = 30_000;

/** What image garbage collection reports (`imageGcMetrics` puts it in a registry). */
export interface ImageGcMetrics {
  /** `bytes`: what the removed images held that no other image shared; undefined when the engine did not say. */
  removed(node: string, images: number, bytes: number | undefined): void;
  /** A node's round failed (its engine did not answer a listing). */
  failed(node: string): void;
}

/** Where the collector reports, when provided; the process registry (`/metrics`) otherwise. */
export const IMAGE_GC_METRICS = Symbol('IMAGE_GC_METRICS');

export function imageGcMetrics(registry: MetricsRegistry = processMetrics): ImageGcMetrics {
  const images = registry.counter('node_image_gc_removed_images_total', "Images the image garbage collection removed from a node's engine, by node.");
  const bytes = registry.counter('node_image_gc_freed_bytes_total', 'Bytes the removed images held that no other image on their node shared (a lower bound of the space freed), by node.');
  const failures = registry.counter('node_image_gc_failures_total', "Rounds of image garbage collection on a node that failed because its engine did not answer, by node.");
  return {
    removed: (node, count, freed) => {
      images.inc({ node }, count);
      if (freed !== undefined) bytes.inc({ node }, freed);
    },
    failed: (node) => failures.inc({ node }),
  };
}

/** `12.3 MiB` */
function mebibytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Image garbage collection on the nodes, as the kubelet's image GC does it on its own node:
 * every `imageGcIntervalMs` (a timer, not a loop), the replica that owns the cluster scope
 * (the one that also watches the nodes) asks every Ready node's engine for its images and its
 * containers, and removes the platform's images (image-gc.ts: pulled from the platform
 * registry or made by a platform build, of this platform instance) that no container on that
 * node uses, that no DeploymentConfig keeps (its template, its current and previous revisions,
 * its last Complete one, any revision with pods) and that have been unused for
 * `imageGcMinAgeMs`. The registry keeps every image, so a pod that needs one again pulls it.
 * Removals are never forced: the engine refuses an image a container was made from meanwhile.
 * What went is logged per node (count and bytes) and counted on `/metrics`.
 */
@Injectable()
export class NodeImageCollector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeImageCollector.name);
  private readonly config = loadConfig();
  /** Per node, since when each of its platform images has been seen unused (by this replica, while it owns the work). */
  private readonly unusedSince = new Map<string, Map<string, number>>();
  private readonly metrics: ImageGcMetrics;
  private timer?: NodeJS.Timeout;
  private collecting?: Promise<void>;

  constructor(
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'nodes' | 'dcs' | 'rcs' | 'pods'>,
    @Inject(NodeEngines) private readonly engines: { of(node: Node): Pick<NodeEngine, 'images'> },
    @Inject(ShardOwnership) private readonly ownership: Pick<ShardOwnership, 'ownsNamespace'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: Pick<DeploySettings, 'imageGcIntervalMs' | 'imageGcMinAgeMs' | 'now'>,
    @Optional() @Inject(IMAGE_GC_METRICS) metrics?: ImageGcMetrics,
  ) {
    this.metrics = metrics ?? imageGcMetrics();
  }

  onApplicationBootstrap() {
    if (this.settings.imageGcIntervalMs > 0) this.timer = setInterval(() => void this.collect(), this.settings.imageGcIntervalMs).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** One round over every Ready node; rounds never overlap. */
  collect(): Promise<void> {
    this.collecting ??= this.collectOnce()
      .catch((error: Error) => this.logger.warn({ msg: `image garbage collection failed: ${error.message}` }))
      .finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  private async collectOnce(): Promise<void> {
    if (!this.ownership.ownsNamespace(NODE_SCOPE)) {
      this.unusedSince.clear();
      return;
    }
    const keep = imagesToKeep(this.cache.dcs.list(), this.cache.rcs.list(), this.cache.pods.list());
    const nodes = this.cache.nodes.list({ namespace: NODE_SCOPE }).filter(isNodeReady);
    for (const name of this.unusedSince.keys()) if (!nodes.some((node) => node.metadata.name === name)) this.unusedSince.delete(name);
    await Promise.all(nodes.map((node) => this.collectOn(node, keep)));
  }

  private async collectOn(node: Node, keep: ReadonlySet<string>): Promise<void> {
    const name = node.metadata.name;
    const { registryHost } = this.config;
    const observed = await this.observe(node).catch((error: Error) => {
      this.metrics.failed(name);
      this.logger.warn({ msg: `images on node ${name} not collected: ${error.message}` });
      return undefined;
    });
    if (!observed) return;
    const { images, listed, inUse } = observed;
    const asOnNode = (reference: string) => canonicalReference(asTheNodeNamesIt(reference, { host: registryHost, nodeHost: node.spec.registryHost }));
    const { remove, unusedSince } = imagesToRemove({
      images: listed,
      inUse,
      keep: new Set([...keep].flatMap((reference) => [canonicalReference(reference), asOnNode(reference)])),
      registries: [registryHost, node.spec.registryHost],
      instance: this.config.instance,
      now: this.settings.now(),
      minAgeMs: this.settings.imageGcMinAgeMs,
      unusedSince: this.unusedSince.get(name) ?? new Map(),
    });
    this.unusedSince.set(name, unusedSince);
    if (!remove.length) return;
    const sizes = await withinTime(images.uniqueSizes(), ENGINE_CALL_TIMEOUT_MS).catch((error: Error) => {
      this.logger.warn({ msg: `sizes of the images on node ${name} not known: ${error.message}` });
      return undefined;
    });
    const removed: string[] = [];
    let bytes = 0;
    for (const image of remove) {
      // The work may have moved to another replica meanwhile: it goes on there.
      if (!this.ownership.ownsNamespace(NODE_SCOPE)) break;
      const outcome = await withinTime(images.remove(image), ENGINE_CALL_TIMEOUT_MS).catch((error: Error) => {
        this.logger.warn({ msg: `image ${image.id} on node ${name} not removed: ${error.message}` });
        return 'failed' as const;
      });
      if (outcome === 'in-use') this.logger.debug({ msg: `image ${image.id} on node ${name} kept: the engine says it is in use` });
      if (outcome !== 'removed') continue;
      unusedSince.delete(image.id);
      removed.push(image.references[0] ?? image.id);
      bytes += sizes?.get(image.id) ?? 0;
    }
    if (!removed.length) return;
    const freed = sizes ? bytes : undefined;
    this.metrics.removed(name, removed.length, freed);
    this.logger.log({
      msg: `removed ${removed.length} unused image${removed.length === 1 ? '' : 's'} from node ${name}, ${freed === undefined ? 'freeing an unknown size' : `freeing at least ${mebibytes(freed)}`}`,
      node: name,
      images: removed,
      bytes: freed,
    });
  }

  /** The node's images and the ids its containers use. */
  private async observe(node: Node): Promise<{ images: NodeImages; listed: NodeImage[]; inUse: Set<string> }> {
    const images = this.engines.of(node).images;
    const [listed, inUse] = await Promise.all([withinTime(images.list(), ENGINE_CALL_TIMEOUT_MS), withinTime(images.inUse(), ENGINE_CALL_TIMEOUT_MS)]);
    return { images, listed, inUse };
  }
}
