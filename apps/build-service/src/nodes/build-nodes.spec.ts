import type { Node } from '@paas/contracts/nodes';
import type { ChangeListener } from '@paas/platform/resource-feed';
import type { ContainerRuntime } from '../builds/pipeline/container-runtime';
import { aNode } from '../testing/fake-nodes';
import { InformedBuildNodes } from './build-nodes';

/** What the deploy-service answers to `nodes.list`: the API view, without a namespace. */
const apiView = (node: Node) => {
  const { namespace: _scope, ...metadata } = node.metadata;
  return { ...node, metadata };
};

describe('InformedBuildNodes', () => {
  function setup(nodes: Node[]) {
    const listeners: ChangeListener<Node>[] = [];
    const rpc = { request: jest.fn(async () => ({ kind: 'NodeList', items: nodes.map(apiView) })) };
    const feed = { watch: <T>(_kind: string, listener: ChangeListener<T>) => (listeners.push(listener as ChangeListener<Node>), () => undefined), live: () => true };
    const opened: string[] = [];
    const subject = new InformedBuildNodes(rpc as never, feed, (node) => (opened.push(`${node.metadata.name} ${node.spec.engine.url}`), { node: node.metadata.name } as unknown as ContainerRuntime));
    const change = (type: 'MODIFIED' | 'DELETED', node: Node) => listeners.forEach((listener) => listener({ type, object: node }));
    return { subject, rpc, opened, change };
  }

  it('lists the nodes with nodes.list, and opens each engine once, again only when the way to reach it changes', async () => {
    const { subject, rpc, opened, change } = setup([aNode('local'), aNode('node-1')]);
    await subject.onModuleInit();
    expect(rpc.request).toHaveBeenCalledWith('nodes.list', {});
    expect(subject.list().map((node) => node.metadata.name)).toEqual(['local', 'node-1']);

    const engine = subject.engine('node-1');
    expect(engine).toMatchObject({ name: 'node-1', engineUrl: 'tcp://10.250.6.2:2376', registryHost: '10.250.6.1:5000', runtime: { node: 'node-1' } });
    expect(subject.engine('node-1')).toBe(engine);
    expect(opened).toEqual(['node-1 tcp://10.250.6.2:2376']);

    // A status change (NotReady) keeps the engine; a new address opens it again.
    change('MODIFIED', aNode('node-1', { ready: false }));
    expect(subject.engine('node-1')).toBe(engine);
    const moved = aNode('node-1');
    change('MODIFIED', { ...moved, spec: { ...moved.spec, engine: { url: 'tcp://elsewhere.test:2376', tlsDir: '/certs/node-1' } } });
    expect(subject.engine('node-1')?.engineUrl).toBe('tcp://elsewhere.test:2376');
    expect(opened).toEqual(['node-1 tcp://10.250.6.2:2376', 'node-1 tcp://elsewhere.test:2376']);

    change('DELETED', aNode('node-1'));
    expect(subject.engine('node-1')).toBeUndefined();
    subject.onApplicationShutdown();
  });

  it('starts while the deploy-service does not answer, with no node', async () => {
    const { subject, rpc } = setup([]);
    rpc.request.mockRejectedValueOnce(new Error('no responders'));
    await subject.onModuleInit();
    expect(subject.list()).toEqual([]);
    subject.onApplicationShutdown();
  });
});
