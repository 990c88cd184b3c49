import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NODE_SCOPE, type Node } from '@paas/contracts/nodes';
import { belongsToInstance } from '@paas/platform/config';
import { MANAGED_BY, RUNTIME_LABELS } from '../adapters/container-runtime';
import { HOOK_LABELS } from '../deploymentconfigs/lifecycle-hooks';
import { DeployInformers } from '../informers';
import { CLUSTER, type NodeCluster } from '../nodes/cluster';
import { NodeEngines } from '../nodes/node-engines';
import { ReconcileQueues } from './reconcile-queues';

const EVENTS_RECONNECT_MS = 2_000;

/**
 * A pod container that dies has its RC reconciled at once, not at the next resync: one
 * stream of container events per node engine, opened while the node is registered.
 */
@Injectable()
export class ContainerEventWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ContainerEventWatcher.name);
  private readonly watching = new Map<string, { engine: string; stop: AbortController }>();

  constructor(
    @Inject(ReconcileQueues) private readonly queues: ReconcileQueues,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'nodes'>,
    @Inject(NodeEngines) private readonly engines: NodeEngines,
    @Inject(CLUSTER) private readonly cluster: Pick<NodeCluster, 'noteDied' | 'noteStarted' | 'noteOomKilled'>,
  ) {}

  onApplicationBootstrap() {
    this.cache.nodes.onChange(() => this.follow());
    this.follow();
  }

  onApplicationShutdown() {
    for (const { stop } of this.watching.values()) stop.abort();
    this.watching.clear();
  }

  /** One watcher per registered node (a new one when its engine changed). */
  private follow() {
    const nodes = new Map(this.cache.nodes.list({ namespace: NODE_SCOPE }).map((node) => [node.metadata.name, node]));
    for (const [name, watcher] of this.watching) {
      if (nodes.get(name) && JSON.stringify(nodes.get(name)?.spec.engine) === watcher.engine) continue;
      watcher.stop.abort();
      this.watching.delete(name);
    }
    for (const [name, node] of nodes) {
      if (this.watching.has(name)) continue;
      const stop = new AbortController();
      this.watching.set(name, { engine: JSON.stringify(node.spec.engine), stop });
      void this.watch(node, stop.signal);
    }
  }

  private async watch(node: Node, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const stream = await this.engines.of(node).client.containerEvents([`${RUNTIME_LABELS.managedBy}=${MANAGED_BY}`], signal);
        let buffer = '';
        for await (const chunk of stream) {
          buffer += chunk.toString();
          const lines = buffer.split('\n');
          buffer = lines.pop() ?? '';
          for (const line of lines.filter(Boolean)) this.onContainerEvent(JSON.parse(line));
        }
      } catch (error) {
        if (!signal.aborted) this.logger.debug?.({ msg: `events of node ${node.metadata.name} stopped: ${(error as Error).message}; reconnecting` });
      }
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, EVENTS_RECONNECT_MS).unref());
    }
  }

  private onContainerEvent(event: { id?: string; status?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }) {
    const action = event.Action ?? event.status;
    const id = event.Actor?.ID ?? event.id;
    if (id && action === 'die') this.cluster.noteDied(id);
    if (id && action === 'start') this.cluster.noteStarted(id);
    if (id && action === 'oom') this.cluster.noteOomKilled(id);
    const attributes = event.Actor?.Attributes ?? {};
    const namespace = attributes[RUNTIME_LABELS.namespace];
    const rc = attributes[RUNTIME_LABELS.rc];
    // An `oom` after the `die` corrects how the pod says its last run ended.
    if ((action === 'die' || action === 'destroy' || action === 'oom') && namespace && rc && belongsToInstance(attributes)) this.queues.replicationController(namespace, rc);
    // A lifecycle hook that ended lets its DC's rollout go on.
    const dc = attributes[RUNTIME_LABELS.dc];
    if (action === 'die' && namespace && dc && attributes[HOOK_LABELS.revision] && belongsToInstance(attributes)) this.queues.deploymentConfig(namespace, dc);
  }
}
