import type { Pod } from '@paas/contracts/deployments';
import { isNodeDraining, isNodeReady, type Node } from '@paas/contracts/nodes';
import { DEPLOYMENT_LABELS, HOSTNAME_LABEL } from '@paas/contracts/deployments';
import { matchesLabels, type Labels } from '@paas/contracts/meta';

export type Placement = { node: string } | { unschedulable: string };

/**
 * Where a new pod of DeploymentConfig `dc` goes: a Ready node with the labels of the pod's
 * node selector (its name as `kubernetes.io/hostname` included) that is not cordoned and has
 * room for its memory limit (what pods placed there already claim, against the node's
 * allocatable memory; a pod without a limit claims `defaultMemoryBytes`, the limit it runs
 * with), preferring the node with the fewest pods of the same DeploymentConfig
 * (so its replicas spread), then one of `nodesWithImage`, which hold the pod's image already
 * (Kubernetes' ImageLocality: no pull; a new build's image is on the node that built it), then
 * the fewest pods, then the name (the same answer everywhere).
 */
export function placePod(
  nodes: Node[],
  pods: Pod[],
  dc: string,
  memoryBytes = 0,
  nodeSelector: Labels = {},
  defaultMemoryBytes = 0,
  nodesWithImage: ReadonlySet<string> = new Set(),
): Placement {
  const onNode = (node: Node) => pods.filter((pod) => pod.spec.nodeName === node.metadata.name);
  const claimed = (node: Node) => onNode(node).reduce((sum, pod) => sum + (pod.spec.containers[0]?.resources?.limits.memoryBytes ?? defaultMemoryBytes), 0);
  const selected = nodes.filter((node) => matchesLabels({ ...node.metadata.labels, [HOSTNAME_LABEL]: node.metadata.name }, nodeSelector));
  const ready = selected.filter(isNodeReady);
  const schedulable = ready.filter((node) => !node.spec.unschedulable && !isNodeDraining(node));
  const roomy = schedulable.filter((node) => !node.status.allocatable || node.status.allocatable.memoryBytes - claimed(node) >= memoryBytes);
  if (!roomy.length) {
    const why = !nodes.length ? 'no node is registered' : !selected.length ? `no node matches the node selector ${JSON.stringify(nodeSelector)}` : !ready.length ? 'no node is Ready' : !schedulable.length ? 'every Ready node is cordoned' : `no node has ${memoryBytes} bytes of memory left`;
    return { unschedulable: why };
  }
  const score = (node: Node) => {
    const here = onNode(node);
    return [here.filter((pod) => pod.metadata.labels?.[DEPLOYMENT_LABELS.deploymentConfig] === dc).length, nodesWithImage.has(node.metadata.name) ? 0 : 1, here.length] as const;
  };
  const [best] = roomy
    .map((node) => ({ node, score: score(node) }))
    .sort((a, b) => a.score[0] - b.score[0] || a.score[1] - b.score[1] || a.score[2] - b.score[2] || a.node.metadata.name.localeCompare(b.node.metadata.name));
  return { node: best.node.metadata.name };
}
