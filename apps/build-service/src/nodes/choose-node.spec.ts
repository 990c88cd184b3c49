import type { Build } from '@paas/contracts/builds';
import { aNode } from '../testing/fake-nodes';
import { chooseBuildNode } from './choose-node';

const running = (name: string, nodeName: string, phase: Build['status']['phase'] = 'Running') => ({ metadata: { name }, status: { phase, nodeName } }) as Build;
const gib = 1024 ** 3;
/** BUILD_MEMORY_BYTES's default: what each build in flight holds of its node's memory. */
const BUILD = 2 * gib;

describe('chooseBuildNode', () => {
  it('spreads builds: the node with the fewest builds in flight', () => {
    const nodes = [aNode('local'), aNode('node-1')];
    expect(chooseBuildNode(nodes, [running('a', 'local')], BUILD)).toEqual({ node: 'node-1' });
    expect(chooseBuildNode(nodes, [running('a', 'local'), running('b', 'node-1'), running('c', 'node-1', 'Pending')], BUILD)).toEqual({ node: 'local' });
  });

  it('breaks a tie by the most allocatable memory, then by name', () => {
    expect(chooseBuildNode([aNode('a', { memoryBytes: 2 * gib }), aNode('b', { memoryBytes: 4 * gib })], [], BUILD)).toEqual({ node: 'b' });
    expect(chooseBuildNode([aNode('b'), aNode('a')], [], BUILD)).toEqual({ node: 'a' });
    const unmeasured = aNode('a');
    expect(chooseBuildNode([{ ...unmeasured, status: { conditions: unmeasured.status.conditions } }, aNode('b', { memoryBytes: gib })], [], gib)).toEqual({ node: 'b' });
  });

  it('places nothing on a node that is NotReady, cordoned or draining', () => {
    expect(chooseBuildNode([aNode('a', { ready: false }), aNode('b', { unschedulable: true }), aNode('c', { draining: true }), aNode('d')], [running('x', 'd'), running('y', 'd')], BUILD)).toEqual({ node: 'd' });
  });

  it("skips a node whose memory the builds in flight there hold, each at the build's memory limit", () => {
    // a: 4 GiB, two builds hold it all; b: 8 GiB, three builds leave room for one more.
    const inFlight = [running('x', 'a'), running('y', 'a', 'Pending'), running('p', 'b'), running('q', 'b'), running('r', 'b')];
    expect(chooseBuildNode([aNode('a', { memoryBytes: 4 * gib }), aNode('b', { memoryBytes: 8 * gib })], inFlight, BUILD)).toEqual({ node: 'b' });
    // Once one of a's builds is over, a has room again, and fewer builds than b.
    expect(chooseBuildNode([aNode('a', { memoryBytes: 4 * gib }), aNode('b', { memoryBytes: 8 * gib })], inFlight.slice(1), BUILD)).toEqual({ node: 'a' });
  });

  it('takes a node not yet measured, as the pod scheduler does', () => {
    const unmeasured = aNode('a');
    expect(chooseBuildNode([{ ...unmeasured, status: { conditions: unmeasured.status.conditions } }], [running('x', 'a'), running('y', 'a')], BUILD)).toEqual({ node: 'a' });
  });

  it('keeps the next attempt of a build off the node the last one was lost with, unless it is the only one', () => {
    expect(chooseBuildNode([aNode('local'), aNode('node-1')], [running('a', 'node-1')], BUILD, 'local')).toEqual({ node: 'node-1' });
    expect(chooseBuildNode([aNode('local'), aNode('node-1', { ready: false })], [], BUILD, 'local')).toEqual({ node: 'local' });
    expect(chooseBuildNode([aNode('local'), aNode('node-1', { memoryBytes: 2 * gib })], [running('a', 'node-1')], BUILD, 'local')).toEqual({ node: 'local' });
  });

  it('says why a build must wait, and whether only the builds in flight are in its way', () => {
    expect(chooseBuildNode([], [], BUILD)).toEqual({ waiting: 'no node is registered' });
    expect(chooseBuildNode([aNode('a', { ready: false })], [], BUILD)).toEqual({ waiting: 'no node is Ready' });
    expect(chooseBuildNode([aNode('a', { unschedulable: true }), aNode('b', { draining: true }), aNode('c', { ready: false })], [], BUILD)).toEqual({ waiting: 'every Ready node is cordoned or draining' });
    expect(chooseBuildNode([aNode('a', { memoryBytes: gib })], [], BUILD)).toEqual({ waiting: `no node has the ${BUILD} bytes of memory the build needs (its resources.limits.memory, else BUILD_MEMORY_BYTES)` });
    expect(chooseBuildNode([aNode('a', { memoryBytes: gib }), aNode('b', { memoryBytes: 4 * gib })], [running('x', 'b'), running('y', 'b')], BUILD)).toEqual({
      waiting: `every node that could take it is full with the builds in flight there (the build needs ${BUILD} bytes: its resources.limits.memory, else BUILD_MEMORY_BYTES)`,
      busy: true,
    });
  });

  it("holds each build in flight's own memory limit on its node, and places a build by its own", () => {
    const big = running('big', 'a');
    const memoryOf = (build: Build) => (build === big ? 6 * gib : BUILD);
    // 8 GiB nodes: a holds 6 GiB, so a 2 GiB build fits there still and a 4 GiB one only on b.
    const nodes = [aNode('a', { memoryBytes: 8 * gib }), aNode('b', { memoryBytes: 8 * gib })];
    expect(chooseBuildNode(nodes, [big, running('c', 'b'), running('d', 'b')], BUILD, undefined, memoryOf)).toEqual({ node: 'a' });
    expect(chooseBuildNode(nodes, [big, running('c', 'b')], 4 * gib, undefined, memoryOf)).toEqual({ node: 'b' });
  });
});
