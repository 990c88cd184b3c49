import type { RpcClient } from '@paas/platform/rpc';
import type { NamespacesService } from '../namespaces/namespaces.service';
import { ResourceGateway } from './resource-gateway';

describe('ResourceGateway.buildLog', () => {
  it('stops following a silent build once its client has gone', async () => {
    let polls = 0;
    const rpc = { request: async () => (polls++, { log: '', offset: 0, nextOffset: 0, phase: 'Running' }) } as unknown as RpcClient;
    const gateway = new ResourceGateway(rpc, {} as NamespacesService);
    const clientGone = new AbortController();
    setTimeout(() => clientGone.abort(), 50);
    const chunks: string[] = [];
    for await (const chunk of gateway.buildLog('demo', 'hello-1', true, clientGone.signal)) chunks.push(chunk);
    const pollsWhenStopped = polls;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(chunks).toEqual([]);
    expect(polls).toBe(pollsWhenStopped);
  });

  it('reads a finished build to its end without following', async () => {
    const answers = [
      { log: 'one\n', offset: 0, nextOffset: 4, phase: 'Complete' },
      { log: '', offset: 4, nextOffset: 4, phase: 'Complete' },
    ];
    const rpc = { request: async () => answers.shift() } as unknown as RpcClient;
    const chunks: string[] = [];
    for await (const chunk of new ResourceGateway(rpc, {} as NamespacesService).buildLog('demo', 'hello-1', true)) chunks.push(chunk);
    expect(chunks).toEqual(['one\n']);
  });
});
