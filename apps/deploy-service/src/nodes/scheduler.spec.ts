import type { Pod } from '@paas/contracts/deployments';
import { aNode, replicationController, runningPod } from '../testing/fakes';
import { placePod } from './scheduler';

const podOn = (node: string, name: string, dc = 'web', memoryBytes?: number): Pod => {
  const pod = runningPod(replicationController(1, 1), name, 'c', 1, true);
  const [container] = pod.spec.containers;
  return {
    ...pod,
    metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, deploymentconfig: dc } },
    spec: { nodeName: node, containers: [{ ...container, ...(memoryBytes ? { resources: { limits: { memoryBytes } } } : {}) }] },
  };
};

describe('placePod', () => {
  it('spreads one DeploymentConfig first, then the pod count, then by name', () => {
    const nodes = [aNode('a'), aNode('b'), aNode('c')];
    expect(placePod(nodes, [podOn('a', 'x'), podOn('b', 'y', 'other'), podOn('b', 'z', 'other')], 'web')).toEqual({ node: 'c' });
    expect(placePod(nodes, [podOn('a', 'x'), podOn('c', 'y'), podOn('b', 'z', 'other')], 'web')).toEqual({ node: 'b' });
    expect(placePod(nodes, [], 'web')).toEqual({ node: 'a' });
  });

  it('prefers a node that holds the image among those the replicas spread to evenly, over one with fewer pods', () => {
    const nodes = [aNode('a'), aNode('b'), aNode('c')];
    expect(placePod(nodes, [], 'web', 0, {}, 0, new Set(['b']))).toEqual({ node: 'b' });
    expect(placePod(nodes, [podOn('b', 'x', 'other'), podOn('b', 'y', 'other')], 'web', 0, {}, 0, new Set(['b']))).toEqual({ node: 'b' });
    // Spreading comes first: a second replica leaves the node with the image.
    expect(placePod(nodes, [podOn('b', 'x')], 'web', 0, {}, 0, new Set(['b']))).toEqual({ node: 'a' });
    expect(placePod(nodes, [podOn('b', 'x')], 'web', 0, {}, 0, new Set(['b', 'c']))).toEqual({ node: 'c' });
  });

  it('places nothing on a node that is NotReady, cordoned, draining or full, and says why when nothing is left', () => {
    const gib = 1024 ** 3;
    expect(placePod([aNode('a', { ready: false }), aNode('b')], [], 'web')).toEqual({ node: 'b' });
    expect(placePod([aNode('a', { unschedulable: true }), aNode('b', { draining: true }), aNode('c')], [], 'web')).toEqual({ node: 'c' });
    expect(placePod([aNode('a', { memoryBytes: 2 * gib })], [podOn('a', 'x', 'web', 1.5 * gib)], 'web', gib)).toEqual({ unschedulable: `no node has ${gib} bytes of memory left` });
    expect(placePod([aNode('a', { ready: false })], [], 'web')).toEqual({ unschedulable: 'no node is Ready' });
    expect(placePod([], [], 'web')).toEqual({ unschedulable: 'no node is registered' });
  });

  it('keeps to the nodes of the node selector, each node labelled with its own name', () => {
    const labelled = { ...aNode('b'), metadata: { ...aNode('b').metadata, labels: { disk: 'ssd' } } };
    expect(placePod([aNode('a'), labelled], [], 'web', 0, { disk: 'ssd' })).toEqual({ node: 'b' });
    expect(placePod([aNode('a'), labelled], [podOn('a', 'x', 'web')], 'web', 0, { 'kubernetes.io/hostname': 'a' })).toEqual({ node: 'a' });
    expect(placePod([aNode('a')], [], 'web', 0, { disk: 'ssd' })).toEqual({ unschedulable: 'no node matches the node selector {"disk":"ssd"}' });
  });

  it('counts a pod without a memory limit at the default limit it runs with', () => {
    const gib = 1024 ** 3;
    const full = [podOn('a', 'x'), podOn('a', 'y')];
    expect(placePod([aNode('a', { memoryBytes: 2 * gib })], full, 'web', gib, {}, gib)).toEqual({ unschedulable: `no node has ${gib} bytes of memory left` });
    expect(placePod([aNode('a', { memoryBytes: 2 * gib })], full, 'web', gib)).toEqual({ node: 'a' });
  });
});
