import type { Node } from '@paas/contracts/nodes';
import type { InformerHandler } from '@paas/platform/informer';
import type { ContainerRuntime } from '../builds/pipeline/container-runtime';
import type { BuildNodes, NodeEngine } from '../nodes/build-nodes';

export { aNode } from '@paas/platform/test-nodes';

/** BuildNodes over nodes the test sets, each with the runtime the test gives it; changes reach `onChange` handlers as the informer's would. */
export class FakeBuildNodes implements BuildNodes {
  private readonly nodes = new Map<string, Node>();
  private readonly handlers = new Set<InformerHandler<Node>>();

  constructor(
    nodes: Node[] = [],
    private readonly runtimes: Record<string, ContainerRuntime> = {},
  ) {
    for (const node of nodes) this.nodes.set(node.metadata.name, node);
  }

  list() {
    return [...this.nodes.values()];
  }

  get(name: string) {
    return this.nodes.get(name);
  }

  engine(name: string): NodeEngine | undefined {
    const node = this.nodes.get(name);
    const runtime = this.runtimes[name];
    return node && runtime ? { name, engineUrl: node.spec.engine.url, registryHost: node.spec.registryHost, runtime } : undefined;
  }

  onChange(handler: InformerHandler<Node>) {
    this.handlers.add(handler);
    return () => void this.handlers.delete(handler);
  }

  set(node: Node): void {
    const previous = this.nodes.get(node.metadata.name);
    this.nodes.set(node.metadata.name, node);
    for (const handler of this.handlers) handler({ type: previous ? 'MODIFIED' : 'ADDED', object: node, previous });
  }

  remove(name: string): void {
    const node = this.nodes.get(name);
    if (!node) return;
    this.nodes.delete(name);
    for (const handler of this.handlers) handler({ type: 'DELETED', object: node });
  }
}
