import type { Build } from '@paas/contracts/builds';
import { isNodeReady, isNodeSchedulable, type Node } from '@paas/contracts/nodes';

/** Where a build goes, or why it must wait. */
export type BuildPlacement = { node: string } | { waiting: string };

/**
 * The node a new build runs on: one that is Ready and neither cordoned (`spec.unschedulable`)
 * nor draining, preferring the fewest builds in flight there (`inFlight`: the Pending and
 * Running builds of every replica, as this build-service's cache of Builds has them), then the
 * most allocatable memory (a node not yet measured counts as none), then the name, so that
 * every replica gives the same answer for the same state. `avoid` (the node an earlier
 * attempt was lost with, which may still look Ready) is taken only when no other node can be.
 */
export function chooseBuildNode(nodes: readonly Node[], inFlight: readonly Build[], avoid?: string): BuildPlacement {
  const candidates = nodes.filter(isNodeSchedulable);
  const others = candidates.filter((node) => node.metadata.name !== avoid);
  const schedulable = others.length ? others : candidates;
  if (!schedulable.length) {
    const why = !nodes.length ? 'no node is registered' : !nodes.some(isNodeReady) ? 'no node is Ready' : 'every Ready node is cordoned or draining';
    return { waiting: why };
  }
  const builds = (node: Node) => inFlight.filter((build) => build.status.nodeName === node.metadata.name).length;
  const memory = (node: Node) => node.status.allocatable?.memoryBytes ?? 0;
  const [best] = schedulable
    .map((node) => ({ node, builds: builds(node), memory: memory(node) }))
    .sort((a, b) => a.builds - b.builds || b.memory - a.memory || a.node.metadata.name.localeCompare(b.node.metadata.name));
  return { node: best.node.metadata.name };
}
