import type { Build } from '@paas/contracts/builds';
import { aNode } from '../testing/fake-nodes';
import { chooseBuildNode } from './choose-node';

const running = (name: string, nodeName: string, phase: Build['status']['phase'] = 'Running') => ({ metadata: { name }, status: { phase, nodeName } }) as Build;
const gib = 1024 ** 3;

describe('chooseBuildNode', () => {
  it('spreads builds: the node with the fewest builds in flight', () => {
    const nodes = [aNode('local'), aNode('node-1')];
    expect(chooseBuildNode(nodes, [running('a', 'local')])).toEqual({ node: 'node-1' });
    expect(chooseBuildNode(nodes, [running('a', 'local'), running('b', 'node-1'), running('c', 'node-1', 'Pending')])).toEqual({ node: 'local' });
  });

  it('breaks a tie by the most allocatable memory, then by name', () => {
    expect(chooseBuildNode([aNode('a', { memoryBytes: 2 * gib }), aNode('b', { memoryBytes: 4 * gib })], [])).toEqual({ node: 'b' });
    expect(chooseBuildNode([aNode('b'), aNode('a')], [])).toEqual({ node: 'a' });
    const unmeasured = aNode('a');
    expect(chooseBuildNode([{ ...unmeasured, status: { conditions: unmeasured.status.conditions } }, aNode('b', { memoryBytes: gib })], [])).toEqual({ node: 'b' });
  });

  it('places nothing on a node that is NotReady, cordoned or draining', () => {
    expect(chooseBuildNode([aNode('a', { ready: false }), aNode('b', { unschedulable: true }), aNode('c', { draining: true }), aNode('d')], [running('x', 'd'), running('y', 'd')])).toEqual({ node: 'd' });
  });

  it('keeps the next attempt of a build off the node the last one was lost with, unless it is the only one', () => {
    expect(chooseBuildNode([aNode('local'), aNode('node-1')], [running('a', 'node-1')], 'local')).toEqual({ node: 'node-1' });
    expect(chooseBuildNode([aNode('local'), aNode('node-1', { ready: false })], [], 'local')).toEqual({ node: 'local' });
  });

  it('says why a build must wait', () => {
    expect(chooseBuildNode([], [])).toEqual({ waiting: 'no node is registered' });
    expect(chooseBuildNode([aNode('a', { ready: false })], [])).toEqual({ waiting: 'no node is Ready' });
    expect(chooseBuildNode([aNode('a', { unschedulable: true }), aNode('b', { draining: true }), aNode('c', { ready: false })], [])).toEqual({ waiting: 'every Ready node is cordoned or draining' });
  });
});
