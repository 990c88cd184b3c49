import { NODE_SCOPE, type Node } from '@paas/contracts/nodes';
import { busNames } from '@paas/platform/bus-names';
import { loadConfig } from '@paas/platform/config';
import type { NatsConnection, Subscription } from 'nats';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One engine `npm run up` runs, as `.paas/run/nodes.json` lists it. */
export interface RunningNode {
  name: string;
  engineUrl: string;
  tlsDir?: string;
  hostIP: string;
  registryHost: string;
}

/** The engines of the running platform (`local`, and `node-<i>` with `--nodes`); PAAS_NODES_FILE names another list. */
export function runningNodes(): RunningNode[] {
  const file = process.env.PAAS_NODES_FILE ?? path.join(loadConfig().home, 'run', 'nodes.json');
  return JSON.parse(readFileSync(file, 'utf8')) as RunningNode[];
}

/**
 * The deploy-service's part for a build-service tested on a bus of its own: answers
 * `nodes.list` and `nodes.get` with the nodes the test sets, and announces each change on the
 * Node change feed, as the deploy-service does. Real engines, steered readiness and cordons.
 */
export class ServedNodes {
  private readonly nodes = new Map<string, Node>();
  private readonly subscriptions: Subscription[] = [];
  private version = 0;

  constructor(
    private readonly nats: NatsConnection,
    private readonly prefix?: string,
  ) {
    const names = busNames(prefix);
    const reply = (result: unknown) => JSON.stringify({ ok: true, result });
    this.subscriptions.push(
      nats.subscribe(names.rpc('nodes.list'), { callback: (_error, message) => message.respond(reply({ apiVersion: 'v1', kind: 'NodeList', metadata: {}, items: [...this.nodes.values()] })) }),
      nats.subscribe(names.rpc('nodes.get'), {
        callback: (_error, message) => {
          const node = this.nodes.get((message.json() as { name: string }).name);
          message.respond(node ? reply(node) : JSON.stringify({ ok: false, status: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'no such node' } }));
        },
      }),
    );
  }

  /** Registers (or changes) `engine` as a Node, Ready unless told otherwise, and announces it. */
  set(engine: RunningNode, options: { ready?: boolean; unschedulable?: boolean } = {}): Node {
    const previous = this.nodes.get(engine.name);
    const ready = options.ready ?? true;
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: engine.name,
        namespace: NODE_SCOPE,
        uid: previous?.metadata.uid ?? `uid-test-${engine.name}`,
        resourceVersion: String(++this.version),
        generation: 1,
        creationTimestamp: previous?.metadata.creationTimestamp ?? new Date().toISOString(),
        labels: {},
        annotations: {},
      },
      spec: { engine: { url: engine.engineUrl, ...(engine.tlsDir ? { tlsDir: engine.tlsDir } : {}) }, hostIP: engine.hostIP, registryHost: engine.registryHost, unschedulable: options.unschedulable ?? false },
      status: {
        allocatable: { memoryBytes: 4 * 1024 ** 3, cpuMillis: 2000, pods: 110 },
        conditions: [
          ready
            ? { type: 'Ready', status: 'True', reason: 'EngineReady', message: 'the Docker engine answers', lastTransitionTime: new Date().toISOString() }
            : { type: 'Ready', status: 'False', reason: 'NodeNotReady', message: 'the Docker engine has not answered for over 5 s (test)', lastTransitionTime: new Date().toISOString() },
        ],
      },
    };
    this.nodes.set(engine.name, node);
    this.nats.publish(busNames(this.prefix).watch('Node', NODE_SCOPE), JSON.stringify({ type: previous ? 'MODIFIED' : 'ADDED', object: node }));
    return node;
  }

  stop(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}
