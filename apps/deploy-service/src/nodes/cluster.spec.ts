import { NODE_SCOPE } from '@paas/contracts/nodes';
import type { RuntimeContainer } from '../adapters/container-runtime';
import { aNode } from '../testing/fakes';
import { NodeCluster } from './cluster';
import type { NodeEngines } from './node-engines';

describe('NodeCluster', () => {
  const listed: RuntimeContainer[] = [{ id: 'c1', labels: {}, state: 'running' }];
  const engines = { of: () => ({ runtime: { listByOwner: async () => listed } }) } as unknown as NodeEngines;
  const nodes = { get: () => aNode('local'), list: ({ namespace }: { namespace: string }) => (namespace === NODE_SCOPE ? [aNode('local')] : []) };
  const cluster = () => new NodeCluster({ nodes } as never, engines);

  it('lists a container whose die event came as exited, though the engine still lists it running, until it starts again', async () => {
    const subject = cluster();
    expect((await subject.listByOwner({}))[0]).toMatchObject({ id: 'c1', state: 'running', node: 'local' });
    subject.noteDied('c1');
    expect((await subject.listByOwner({}))[0].state).toBe('exited');
    subject.noteStarted('c1');
    expect((await subject.listByOwner({}))[0].state).toBe('running');
  });

  it('remembers the containers the engine sent an oom event for', () => {
    const subject = cluster();
    expect(subject.wasOomKilled('c1')).toBe(false);
    subject.noteOomKilled('c1');
    expect(subject.wasOomKilled('c1')).toBe(true);
    expect(subject.wasOomKilled('c2')).toBe(false);
  });
});
