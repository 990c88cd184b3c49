import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { NODE_SCOPE, type Node } from '@paas/contracts/nodes';
import { dockerFor, engineKey } from '@paas/platform/docker-engines';
import { Informer, type InformerHandler } from '@paas/platform/informer';
import type { ResourceFeed } from '@paas/platform/resource-feed';
import type { RpcClient } from '@paas/platform/rpc';
import { DockerodeClient } from '../adapters/docker-client';
import { DockerContainerRuntime, type BuildContainerLimits } from '../adapters/docker-container-runtime';
import type { ContainerRuntime } from '../builds/pipeline/container-runtime';

export const BUILD_NODES = Symbol('BUILD_NODES');

/** A node's engine as a build drives it. */
export interface NodeEngine {
  /** The node's name. */
  name: string;
  /** Its engine's URL, for the build log. */
  engineUrl: string;
  /** The platform registry as this node's engine reaches it (`host:port`): builds push there. */
  registryHost: string;
  runtime: ContainerRuntime;
}

/**
 * The nodes as the build-service sees them: the deploy-service owns them (`nodes.list`), and
 * this is a cache of them kept current by their changes, with each node's engine opened once.
 */
export interface BuildNodes {
  /** Every registered node. */
  list(): Node[];
  get(name: string): Node | undefined;
  /** The engine of a registered node (whether it answers or not), or undefined. */
  engine(name: string): NodeEngine | undefined;
  /** Every change of a node; returns a function that stops it. */
  onChange(handler: InformerHandler<Node>): () => void;
}

/** Opens the build runtime of one node's engine. */
export type RuntimeOpener = (node: Node) => ContainerRuntime;

/** Each node's engine through dockerode (the local socket, or tcp with the node's TLS files), builds limited as `limits` says. */
export function dockerRuntimeOpener(limits: BuildContainerLimits): RuntimeOpener {
  return (node) => new DockerContainerRuntime(new DockerodeClient(dockerFor(node.spec.engine)), limits);
}

/** How often the node list is taken again in full (changes come in between). */
const NODE_RESYNC_MS = 60_000;

/**
 * BuildNodes over the deploy-service: an Informer of Nodes that lists them with `nodes.list`
 * (stored under NODE_SCOPE, as their changes announce them) and follows `paas.watch.node.*`.
 * A deploy-service that does not answer at start-up does not stop this service: the list is
 * tried again every second until it answers, and builds wait for a node meanwhile.
 */
export class InformedBuildNodes implements BuildNodes, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(InformedBuildNodes.name);
  private readonly informer: Informer<Node>;
  private readonly engines = new Map<string, { key: string; engine: NodeEngine }>();

  constructor(
    rpc: Pick<RpcClient, 'request'>,
    feed: Pick<ResourceFeed, 'watch' | 'live'>,
    private readonly open: RuntimeOpener,
  ) {
    const source = {
      kind: 'Node' as const,
      list: async () => (await rpc.request('nodes.list', {})).items.map((node) => ({ ...node, metadata: { ...node.metadata, namespace: NODE_SCOPE } })),
    };
    this.informer = new Informer(source, feed, { resyncMs: NODE_RESYNC_MS });
    this.informer.onChange(({ type, object }) => {
      if (type === 'DELETED') this.engines.delete(object.metadata.name);
    });
  }

  async onModuleInit() {
    await this.informer.start().catch((error: Error) => {
      // The informer tries the list again by itself.
      this.logger.warn({ msg: `nodes not listed yet (builds wait for one): ${error.message}` });
    });
  }

  onApplicationShutdown() {
    this.informer.stop();
  }

  list(): Node[] {
    return this.informer.list({ namespace: NODE_SCOPE });
  }

  get(name: string): Node | undefined {
    return this.informer.get(NODE_SCOPE, name);
  }

  engine(name: string): NodeEngine | undefined {
    const node = this.get(name);
    if (!node) return undefined;
    const key = engineKey(node.spec);
    const cached = this.engines.get(name);
    if (cached?.key === key) return cached.engine;
    const engine: NodeEngine = { name, engineUrl: node.spec.engine.url, registryHost: node.spec.registryHost, runtime: this.open(node) };
    this.engines.set(name, { key, engine });
    return engine;
  }

  onChange(handler: InformerHandler<Node>): () => void {
    return this.informer.onChange(handler);
  }
}
