import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { Duplex, Readable } from 'node:stream';
import type Docker from 'dockerode';
import { PushError } from '../builds/pipeline/container-runtime';
import { userAgentWithTrace } from '../builds/pipeline/s2i-roles';
import type { DockerClient, PushProgress } from './docker-client';
import { DockerContainerRuntime } from './docker-container-runtime';

function runtimeAnswering(progress: PushProgress[]) {
  const pushes: { repository: string; tag: string; headers: Record<string, string> }[] = [];
  const client = {
    push: async (repository: string, tag: string, headers: Record<string, string>) => {
      pushes.push({ repository, tag, headers });
      return progress;
    },
  } as unknown as DockerClient;
  return { runtime: new DockerContainerRuntime(client), pushes };
}

describe('DockerContainerRuntime.push', () => {
  it('reads the digest from the aux entry and sends our User-Agent', async () => {
    const { runtime, pushes } = runtimeAnswering([
      { status: 'The push refers to repository [127.0.0.1:5000/demo/app]' },
      { status: 'latest: digest: sha256:abc size: 528' },
      { aux: { Tag: 'latest', Digest: 'sha256:abc', Size: 528 } },
    ]);
    await expect(runtime.push('127.0.0.1:5000/demo/app:latest', { userAgent: 'ua' })).resolves.toEqual({ digest: 'sha256:abc' });
    expect(pushes).toEqual([{ repository: '127.0.0.1:5000/demo/app', tag: 'latest', headers: { 'User-Agent': 'ua' } }]);
  });

  it('turns an error hidden in the progress stream into a PushError', async () => {
    const { runtime } = runtimeAnswering([{ status: 'Preparing' }, { error: 'denied', errorDetail: { message: 'denied: not allowed' } }]);
    await expect(runtime.push('r:5000/demo/app:latest', { userAgent: 'ua' })).rejects.toEqual(new PushError('denied: not allowed'));
  });

  it('refuses a push that reports no digest', async () => {
    const { runtime } = runtimeAnswering([{ status: 'Preparing' }]);
    await expect(runtime.push('r:5000/demo/app:latest', { userAgent: 'ua' })).rejects.toBeInstanceOf(PushError);
  });
});

describe('DockerContainerRuntime.run', () => {
  it('creates the build container with memory and process limits and no engine-side log', async () => {
    const created: Docker.ContainerCreateOptions[] = [];
    const client = {
      createContainer: async (options: Docker.ContainerCreateOptions) => (created.push(options), 'c1'),
      attach: async () => ({ stream: new Duplex({ read: () => undefined, write: (_c, _e, done) => done() }), output: Promise.resolve() }),
      start: async () => undefined,
      wait: async () => 0,
      kill: async () => undefined,
      remove: async () => undefined,
    } as unknown as DockerClient;
    const runtime = new DockerContainerRuntime(client, { memoryBytes: 512 * 1024 ** 2, pidsLimit: 256 });

    await runtime.run({ name: 'paas-build-demo.app-1', image: 'b', cmd: ['x'], env: [], labels: {}, input: Readable.from([]), onOutput: async () => undefined });

    expect(created[0].HostConfig).toMatchObject({ Memory: 512 * 1024 ** 2, MemorySwap: 512 * 1024 ** 2, PidsLimit: 256, LogConfig: { Type: 'none' } });
  });
});

describe('userAgentWithTrace', () => {
  beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  afterAll(() => propagation.disable());

  it('carries the active span as a W3C traceparent', () => {
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
    const ua = userAgentWithTrace(trace.setSpanContext(ROOT_CONTEXT, spanContext));
    expect(ua).toBe('paas-build-service traceparent/00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('is plain without an active span', () => {
    expect(userAgentWithTrace(ROOT_CONTEXT)).toBe('paas-build-service');
  });
});
