import { Inject, Injectable, Logger } from '@nestjs/common';
import { isNodeReady, NODE_SCOPE } from '@paas/contracts/nodes';
import type { Labels } from '@paas/contracts/meta';
import { withinTime } from '@paas/platform/docker-engines';
import type { ContainerRuntime, RuntimeContainer } from '../adapters/container-runtime';
import { DeployInformers } from '../informers';
import { NodeEngines } from './node-engines';

/** How long a `die` event is remembered: far longer than the engine takes to list the container as exited. */
const DIED_MEMORY_MS = 60_000;

/** A container with the node it runs on. */
export interface NodeContainer extends RuntimeContainer {
  node: string;
}

/** The nodes as the reconcilers drive them: one runtime per node, and listings across the Ready ones. */
export interface Cluster {
  /** The runtime of a node, while it is registered. */
  runtimeOf(node: string): ContainerRuntime | undefined;
  isReady(node: string): boolean;
  /** Containers with these labels on every Ready node (a NotReady one cannot be asked). */
  listByOwner(labels: Labels): Promise<NodeContainer[]>;
  /** Whether the engine sent an `oom` event for this container (lately). */
  wasOomKilled(id: string): boolean;
  /** Which of these nodes hold `image` now; one whose engine does not answer within IMAGE_CHECK_MS does not. */
  nodesHolding(image: string, nodes: string[]): Promise<Set<string>>;
}

/** How long a node's engine has to say whether it holds an image, for the placement of a pod. */
export const IMAGE_CHECK_MS = 1_000;

export const CLUSTER = Symbol('CLUSTER');

@Injectable()
export class NodeCluster implements Cluster {
  private readonly logger = new Logger(NodeCluster.name);
  private readonly died = new Map<string, number>();
  private readonly oomKilled = new Map<string, number>();

  constructor(
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'nodes'>,
    @Inject(NodeEngines) private readonly engines: NodeEngines,
  ) {}

  runtimeOf(node: string): ContainerRuntime | undefined {
    const registered = this.cache.nodes.get(NODE_SCOPE, node);
    return registered && this.engines.of(registered).runtime;
  }

  isReady(node: string): boolean {
    return isNodeReady(this.cache.nodes.get(NODE_SCOPE, node));
  }

  /**
   * A container the engine said died (its `die` event). The engine announces the death before
   * its container list shows it: a reconcile woken by the event would list the container as
   * still running, adopt it, and hear nothing more until a timer. Until a `start` says
   * otherwise (or a minute passes), a listing shows such a container as exited.
   */
  noteDied(id: string): void {
    remember(this.died, id);
  }

  noteStarted(id: string): void {
    this.died.delete(id);
  }

  /**
   * A container the kernel killed for going over its memory limit (its `oom` event). The engine
   * records OOMKilled on the container only when that event reaches it before the exit; when
   * it comes after, the inspection says a plain exit 137, and only the event tells.
   */
  noteOomKilled(id: string): void {
    remember(this.oomKilled, id);
  }

  wasOomKilled(id: string): boolean {
    return this.oomKilled.has(id);
  }

  nodesHolding(image: string, nodes: string[]): Promise<Set<string>> {
    return holding(nodes, (node) => this.runtimeOf(node)?.hasImage(image));
  }

  async listByOwner(labels: Labels): Promise<NodeContainer[]> {
    const ready = this.cache.nodes.list({ namespace: NODE_SCOPE }).filter(isNodeReady);
    const listed = await Promise.all(
      ready.map(async (node) => {
        try {
          return (await this.engines.of(node).runtime.listByOwner(labels)).map((container) => ({ ...container, node: node.metadata.name }));
        } catch (error) {
          // Gone since its last heartbeat: the monitor will say so; its containers count as unknown meanwhile.
          this.logger.warn({ msg: `containers on node ${node.metadata.name} not listed: ${(error as Error).message}` });
          throw error;
        }
      }),
    );
    return listed.flat().map((container) => (container.state === 'running' && this.died.has(container.id) ? { ...container, state: 'exited' as const } : container));
  }
}

/** Notes `id` now, and forgets what was noted more than DIED_MEMORY_MS ago. */
function remember(memory: Map<string, number>, id: string): void {
  const now = Date.now();
  memory.set(id, now);
  for (const [known, at] of memory) if (now - at > DIED_MEMORY_MS) memory.delete(known);
}

/** The nodes whose `has` says yes within IMAGE_CHECK_MS (asked at once); no runtime, an error or no answer is a no. */
export async function holding(nodes: string[], has: (node: string) => Promise<boolean> | undefined): Promise<Set<string>> {
  const answers = await Promise.all(nodes.map((node) => withinTime(has(node) ?? Promise.resolve(false), IMAGE_CHECK_MS).catch(() => false)));
  return new Set(nodes.filter((_, i) => answers[i]));
}
