import { InMemoryFeed } from '@paas/platform/in-memory-repository';
import type { RpcClient } from '@paas/platform/rpc';
import type { NamespacesService } from '../namespaces/namespaces.service';
import { ResourceGateway } from './resource-gateway';
import { ResourceWakeups } from './resource-wakeups';

const gatewayOf = (rpc: RpcClient, feed = new InMemoryFeed()) => new ResourceGateway(rpc, {} as NamespacesService, new ResourceWakeups(feed));

/** Wakeups that only record what a follower did: `follow <kind> <ns>/<name>`, `next <ms>` for each wait, `stop`. */
function recordingWakeups() {
  const calls: string[] = [];
  const wakeups = {
    follow: (kind: string, namespace: string, name: string) => (
      calls.push(`follow ${kind} ${namespace}/${name}`), { next: async (ms: number) => void calls.push(`next ${ms}`), stop: () => void calls.push('stop') }
    ),
  } as unknown as ResourceWakeups;
  return { calls, wakeups };
}

describe('ResourceGateway.buildLog', () => {
  it('stops following a silent build once its client has gone', async () => {
    let polls = 0;
    const rpc = { request: async () => (polls++, { log: '', offset: 0, nextOffset: 0, phase: 'Running' }) } as unknown as RpcClient;
    const gateway = gatewayOf(rpc);
    const clientGone = new AbortController();
    setTimeout(() => clientGone.abort(), 50);
    const chunks: string[] = [];
    for await (const chunk of gateway.buildLog('demo', 'hello-1', true, clientGone.signal)) chunks.push(chunk);
    const pollsWhenStopped = polls;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(chunks).toEqual([]);
    expect(polls).toBe(pollsWhenStopped);
  });

  it('waits for the build it follows to change between reads, and stops waiting once it ended', async () => {
    const answers = [
      { log: 'one\n', offset: 0, nextOffset: 4, phase: 'Running' },
      { log: '', offset: 4, nextOffset: 4, phase: 'Running' },
      { log: '', offset: 4, nextOffset: 4, phase: 'Complete' },
    ];
    const rpc = { request: async () => answers.shift() } as unknown as RpcClient;
    const { calls, wakeups } = recordingWakeups();
    const chunks: string[] = [];
    for await (const chunk of new ResourceGateway(rpc, {} as NamespacesService, wakeups).buildLog('demo', 'hello-1', true)) chunks.push(chunk);
    expect(chunks).toEqual(['one\n']);
    // After text, the next read waits for a batch to gather; after none, for the poll interval; either ends at the build's change.
    expect(calls).toEqual(['follow Build demo/hello-1', 'next 100', 'next 250', 'stop']);
  });

  it('reads a finished build to its end without waiting', async () => {
    const answers = [
      { log: 'one\n', offset: 0, nextOffset: 4, phase: 'Complete' },
      { log: 'two\n', offset: 4, nextOffset: 8, phase: 'Complete' },
      { log: '', offset: 8, nextOffset: 8, phase: 'Complete' },
    ];
    const rpc = { request: async () => answers.shift() } as unknown as RpcClient;
    const { calls, wakeups } = recordingWakeups();
    const chunks: string[] = [];
    for await (const chunk of new ResourceGateway(rpc, {} as NamespacesService, wakeups).buildLog('demo', 'hello-1', true)) chunks.push(chunk);
    expect(chunks).toEqual(['one\n', 'two\n']);
    expect(calls).toEqual(['follow Build demo/hello-1', 'stop']);
  });
});

describe('ResourceGateway.podLog', () => {
  it('follows from the last line it sent, without its stamp unless asked, and ends once the container stopped and nothing more came', async () => {
    const asked: object[] = [];
    const answers = [
      { log: '2030-01-01T00:00:00.000000001Z one\n2030-01-01T00:00:00.000000002Z two\n', running: true },
      { log: '', running: true },
      { log: '2030-01-01T00:00:01.000000000Z three\n', running: false },
      { log: '', running: false },
    ];
    const rpc = { request: async (_method: string, request: object) => (asked.push(request), answers.shift()) } as unknown as RpcClient;
    const chunks: string[] = [];
    for await (const chunk of gatewayOf(rpc).podLog('demo', 'web-1-abcde', { tailLines: 2 }, true)) chunks.push(chunk);
    expect(chunks).toEqual(['one\ntwo\n', 'three\n']);
    expect(asked).toEqual([
      { namespace: 'demo', name: 'web-1-abcde', tailLines: 2, timestamps: true },
      { namespace: 'demo', name: 'web-1-abcde', previous: undefined, timestamps: true, sinceTime: '2030-01-01T00:00:00.000000002Z' },
      { namespace: 'demo', name: 'web-1-abcde', previous: undefined, timestamps: true, sinceTime: '2030-01-01T00:00:00.000000002Z' },
      { namespace: 'demo', name: 'web-1-abcde', previous: undefined, timestamps: true, sinceTime: '2030-01-01T00:00:01.000000000Z' },
    ]);
  });
});

describe('ResourceGateway.deploymentLog', () => {
  it('follows the revision it first read from where each read ended, and ends once its log is complete (not merely its phase) and nothing more came', async () => {
    const asked: object[] = [];
    const answers = [
      { log: '--> Scaling up web-2 from 0 to 1\n', version: 2, nextOffset: 1, phase: 'Running', complete: false },
      // The phase is written a moment before the line that ends the log.
      { log: '', version: 2, nextOffset: 1, phase: 'Complete', complete: false },
      { log: '--> Success\n', version: 2, nextOffset: 2, phase: 'Complete', complete: true },
      { log: '', version: 2, nextOffset: 2, phase: 'Complete', complete: true },
    ];
    const rpc = { request: async (_method: string, request: object) => (asked.push(request), answers.shift()) } as unknown as RpcClient;
    const chunks: string[] = [];
    for await (const chunk of gatewayOf(rpc).deploymentLog('demo', 'web', { tailLines: 5 }, true)) chunks.push(chunk);
    expect(chunks).toEqual(['--> Scaling up web-2 from 0 to 1\n', '--> Success\n']);
    expect(asked).toEqual([
      { namespace: 'demo', name: 'web', tailLines: 5 },
      { namespace: 'demo', name: 'web', version: 2, offset: 1 },
      { namespace: 'demo', name: 'web', version: 2, offset: 1 },
      { namespace: 'demo', name: 'web', version: 2, offset: 2 },
    ]);
  });
});
