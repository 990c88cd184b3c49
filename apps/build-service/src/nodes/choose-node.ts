import type { Build } from '@paas/contracts/builds';
import { isNodeReady, isNodeSchedulable, type Node } from '@paas/contracts/nodes';

/** Where a build goes, or why it must wait; `busy` when only the builds in flight hold the memory it needs. */
export type BuildPlacement = { node: string } | { waiting: string; busy?: boolean };

/**
 * The node a new build runs on: one that is Ready and neither cordoned (`spec.unschedulable`)
 * nor draining, and has room for the build's memory limit (`buildMemoryBytes`: its
 * BuildConfig's `resources.limits.memory`, else the build-service's `BUILD_MEMORY_BYTES`): its
 * allocatable memory less the limit of each build in flight there (`memoryOf`; `inFlight`: the
 * Pending and Running builds of every replica, as this build-service's cache of Builds has
 * them) must hold it. A node's allocatable memory is
 * its engine's whole memory, pods not subtracted: the deploy-service's scheduler counts its pods'
 * limits against it, and this counts builds against it (pods are not the build-service's to
 * see). A node not yet measured is not held back, as the scheduler does not hold it back. Of
 * those, the fewest builds in flight there, then the most allocatable memory (a node not yet
 * measured counts as none), then the name, so that every replica gives the same answer for the
 * same state. `avoid` (the node an earlier attempt was lost with, which may still look Ready)
 * is taken only when no other node can be. With none, why: `busy` when a node would have room
 * once builds in flight there end.
 */
export function chooseBuildNode(
  nodes: readonly Node[],
  inFlight: readonly Build[],
  buildMemoryBytes: number,
  avoid?: string,
  memoryOf: (build: Build) => number = () => buildMemoryBytes,
): BuildPlacement {
  const buildsOn = (node: Node) => inFlight.filter((build) => build.status.nodeName === node.metadata.name);
  const builds = (node: Node) => buildsOn(node).length;
  const memory = (node: Node) => node.status.allocatable?.memoryBytes ?? 0;
  const held = (node: Node) => buildsOn(node).reduce((sum, build) => sum + memoryOf(build), 0);
  const roomFor = (node: Node) => !node.status.allocatable || memory(node) - held(node) >= buildMemoryBytes;
  const schedulable = nodes.filter(isNodeSchedulable);
  const candidates = schedulable.filter(roomFor);
  const others = candidates.filter((node) => node.metadata.name !== avoid);
  const chosen = others.length ? others : candidates;
  if (!chosen.length) {
    if (schedulable.some((node) => memory(node) >= buildMemoryBytes)) {
      return { waiting: `every node that could take it is full with the builds in flight there (the build needs ${buildMemoryBytes} bytes: its resources.limits.memory, else BUILD_MEMORY_BYTES)`, busy: true };
    }
    const why = !nodes.length ? 'no node is registered' : !nodes.some(isNodeReady) ? 'no node is Ready' : !schedulable.length ? 'every Ready node is cordoned or draining' : `no node has the ${buildMemoryBytes} bytes of memory the build needs (its resources.limits.memory, else BUILD_MEMORY_BYTES)`;
    return { waiting: why };
  }
  const [best] = chosen
    .map((node) => ({ node, builds: builds(node), memory: memory(node) }))
    .sort((a, b) => a.builds - b.builds || b.memory - a.memory || a.node.metadata.name.localeCompare(b.node.metadata.name));
  return { node: best.node.metadata.name };
}
