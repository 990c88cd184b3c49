import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { Duplex, Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ContainerGoneError, ImageBuildError, PushError } from '../builds/pipeline/container-runtime';
import { userAgentWithTrace } from '../builds/pipeline/s2i-roles';
import { registryAuthHeader, type BuildProgress, type DockerClient, type PushOptions, type PushProgress } from './docker-client';
import { DockerContainerRuntime } from './docker-container-runtime';

function runtimeAnswering(progress: PushProgress[]) {
  const pushes: { repository: string; tag: string; options: PushOptions }[] = [];
  const client = {
    push: async (repository: string, tag: string, options: PushOptions) => {
      pushes.push({ repository, tag, options });
      return progress;
    },
  } as unknown as DockerClient;
  return { runtime: new DockerContainerRuntime(client), pushes };
}

describe('DockerContainerRuntime.push', () => {
  it('reads the digest from the aux entry and sends our User-Agent and the registry token', async () => {
    const { runtime, pushes } = runtimeAnswering([
      { status: 'The push refers to repository [127.0.0.1:5000/demo/app]' },
      { id: '3b4c1a9e2d77', status: 'Preparing' },
      { id: '5f70bf18a086', status: 'Preparing' },
      { id: '3b4c1a9e2d77', status: 'Pushing', progressDetail: { current: 512, total: 1024 } },
      { id: '5f70bf18a086', status: 'Mounted from demo/other' },
      { id: '3b4c1a9e2d77', status: 'Pushed' },
      { status: 'latest: digest: sha256:abc size: 528' },
      { aux: { Tag: 'latest', Digest: 'sha256:abc', Size: 528 } },
    ]);
    const auth = { registrytoken: 'jwt' };
    await expect(runtime.push('127.0.0.1:5000/demo/app:latest', { userAgent: 'ua', auth })).resolves.toEqual({
      digest: 'sha256:abc',
      layers: ['3b4c1a9e2d77: Pushed', '5f70bf18a086: Mounted from demo/other'],
    });
    expect(pushes).toEqual([{ repository: '127.0.0.1:5000/demo/app', tag: 'latest', options: { headers: { 'User-Agent': 'ua' }, auth, signal: undefined } }]);
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

describe('DockerContainerRuntime.buildImage', () => {
  /** An engine that answers a build with `progress` (handing each entry over as it comes) and records the calls after it. */
  function engineBuilding(progress: BuildProgress[]) {
    const calls: unknown[][] = [];
    const client = {
      buildImage: async (_context: unknown, query: Record<string, unknown>, { onProgress }: { onProgress: (entry: BuildProgress) => void }) => {
        calls.push(['build', query]);
        progress.forEach(onProgress);
        return progress;
      },
      createContainer: async (options: object) => (calls.push(['create', options]), 'labeller'),
      commit: async (id: string, query: object, config: object) => (calls.push(['commit', id, query, config]), 'sha256:labelled'),
      remove: async (id: string) => void calls.push(['remove', id]),
    } as unknown as DockerClient;
    return { runtime: new DockerContainerRuntime(client, { memoryBytes: 512 << 20, pidsLimit: 100 }), calls };
  }
  const spec = (output: string[]) => ({
    context: Readable.from([]),
    dockerfile: 'web/Dockerfile',
    tag: '127.0.0.1:5000/demo/app:latest',
    buildArgs: { GREETING: 'hi' },
    labels: { 'paas.dev/build': 'demo.app-1' },
    name: 'paas-build-demo.app-1',
    noCache: true,
    onOutput: async (text: string) => void output.push(text),
  });

  it('builds with the limits and args, streams the output, then labels and tags the image by one commit of an unstarted container, which it removes', async () => {
    const { runtime, calls } = engineBuilding([{ stream: 'Step 1/2 : FROM base\n' }, { aux: { ID: 'sha256:built' } }, { stream: 'Successfully built\n' }]);
    const output: string[] = [];
    await expect(runtime.buildImage(spec(output))).resolves.toBe('sha256:labelled');
    expect(output).toEqual(['Step 1/2 : FROM base\n', 'Successfully built\n']);
    expect(calls).toEqual([
      ['build', { dockerfile: 'web/Dockerfile', buildargs: { GREETING: 'hi' }, nocache: true, rm: true, forcerm: true, memory: 512 << 20, memswap: 512 << 20 }],
      ['create', { name: 'paas-build-demo.app-1', Image: 'sha256:built', Labels: { 'paas.dev/build': 'demo.app-1' } }],
      ['commit', 'labeller', { repo: '127.0.0.1:5000/demo/app', tag: 'latest' }, {}],
      ['remove', 'labeller'],
    ]);
  });

  it("turns the engine's error in the progress stream into an ImageBuildError, and labels nothing", async () => {
    const { runtime, calls } = engineBuilding([{ stream: 'Step 2/2 : RUN exit 3\n' }, { error: 'x', errorDetail: { message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" } }]);
    await expect(runtime.buildImage(spec([]))).rejects.toEqual(new ImageBuildError("The command '/bin/sh -c exit 3' returned a non-zero code: 3"));
    expect(calls.map(([call]) => call)).toEqual(['build']);
  });

  it("gives every step the build's CPU quota and no network when it asks", async () => {
    const { runtime, calls } = engineBuilding([{ aux: { ID: 'sha256:built' } }]);
    await runtime.buildImage({ ...spec([]), resources: { memoryBytes: 1024 ** 3, cpuMillis: 1500, networkDisabled: true } });
    expect(calls[0][1]).toMatchObject({ memory: 1024 ** 3, memswap: 1024 ** 3, cpuperiod: 100_000, cpuquota: 150_000, networkmode: 'none' });
  });
});

describe('registryAuthHeader', () => {
  it('encodes the AuthConfig as dockerd decodes X-Registry-Auth: base64 with the URL alphabet and padding', () => {
    // A token whose JSON has bytes that plain base64 would write as + and /, and whose length needs padding.
    const auth = { registrytoken: 'ey>>>??~~~.a-b_c' };
    const header = registryAuthHeader(auth);
    expect(header).toBe('eyJyZWdpc3RyeXRva2VuIjoiZXk-Pj4_P35-fi5hLWJfYyJ9');
    expect(registryAuthHeader({ registrytoken: 'abcde' })).toBe('eyJyZWdpc3RyeXRva2VuIjoiYWJjZGUifQ==');
    expect(JSON.parse(Buffer.from(registryAuthHeader({ registrytoken: 'abcde' }), 'base64url').toString())).toEqual({ registrytoken: 'abcde' });
    expect(Buffer.from(registryAuthHeader(), 'base64url').toString()).toBe('{}');
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

    await runtime.run({ name: 'paas-build-demo.app-1', image: 'b', cmd: ['x'], env: [], user: '1001', labels: {}, input: Readable.from([]), onOutput: async () => undefined });

    expect(created[0]).toMatchObject({ User: '1001' });
    expect(created[0].HostConfig).toMatchObject({ Memory: 512 * 1024 ** 2, MemorySwap: 512 * 1024 ** 2, PidsLimit: 256, LogConfig: { Type: 'none' }, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'] });
    expect(created[0].HostConfig).not.toHaveProperty('NanoCpus');
    expect(created[0].HostConfig).not.toHaveProperty('NetworkMode');

    const resources = { memoryBytes: 256 * 1024 ** 2, cpuMillis: 500, networkDisabled: true };
    await runtime.run({ name: 'paas-build-demo.app-2', image: 'b', cmd: ['x'], env: [], user: '1001', labels: {}, resources, onOutput: async () => undefined });
    expect(created[1].HostConfig).toMatchObject({ Memory: 256 * 1024 ** 2, MemorySwap: 256 * 1024 ** 2, NanoCpus: 500_000_000, NetworkMode: 'none' });
  });

  it('refuses a stdout kept apart (data) that broke off, and removes the container; plain output that broke off does not matter', async () => {
    const removed: string[] = [];
    const client = {
      createContainer: async () => 'c1',
      attach: async () => ({ stream: new Duplex({ read: () => undefined, write: (_c, _e, done) => done() }), output: Promise.reject(new Error('socket hang up')) }),
      start: async () => undefined,
      wait: async () => 0,
      kill: async () => undefined,
      remove: async (id: string) => void removed.push(id),
    } as unknown as DockerClient;
    const runtime = new DockerContainerRuntime(client);
    const spec = { name: 'paas-build-demo.app-1-save-artifacts', image: 'b', cmd: ['x'], env: [], user: '1001', labels: {}, onOutput: async () => undefined };

    await expect(runtime.run({ ...spec, onStdout: async () => undefined })).rejects.toThrow('the output of paas-build-demo.app-1-save-artifacts broke off');
    expect(removed).toEqual(['c1']);
    await expect(runtime.run(spec)).resolves.toEqual({ containerId: 'c1', exitCode: 0 });
  });
});

describe('DockerContainerRuntime.startWaiting', () => {
  /** An engine whose container writes `early` once attached, and exits 0 once its stdin ended (or when `exit` is called). */
  function engine(early: string, renameFails?: number) {
    const calls: string[] = [];
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    const stdin: Buffer[] = [];
    const client = {
      createContainer: async (options: Docker.ContainerCreateOptions) => (calls.push(`create ${options.name} stdin=${options.OpenStdin}`), 'c1'),
      attach: async (_id: string, onOutput: (chunk: Buffer) => Promise<void>) => {
        void onOutput(Buffer.from(early));
        const stream = new Duplex({ read: () => undefined, write: (chunk, _e, done) => (stdin.push(chunk), done()), final: (done) => (exit(0), done()) });
        return { stream, output: exited.then(() => undefined) };
      },
      start: async () => void calls.push('start'),
      wait: () => exited,
      kill: async () => undefined,
      remove: async (id: string) => void calls.push(`remove ${id}`),
      rename: async (id: string, name: string) => {
        if (renameFails) throw Object.assign(new Error(`rename failed (${renameFails})`), { statusCode: renameFails });
        calls.push(`rename ${id} ${name}`);
      },
      update: async (id: string, limits: object) => void calls.push(`update ${id} ${JSON.stringify(limits)}`),
    } as unknown as DockerClient;
    return { runtime: new DockerContainerRuntime(client, { memoryBytes: 512 << 20, pidsLimit: 100 }), calls, stdin, exit };
  }
  const waiting = { name: 'paas-build-warm-1', image: 'b', cmd: ['x'], env: [], user: '1001', labels: {} };

  it("starts a container reading stdin; its claim renames it the run's, sets the run's limits, hands over what it wrote, then streams the input", async () => {
    const { runtime, calls, stdin } = engine('builder says hi\n');
    const container = await runtime.startWaiting(waiting);
    expect(calls).toEqual(['create paas-build-warm-1 stdin=true', 'start']);

    const output: string[] = [];
    const resources = { memoryBytes: 256 << 20, cpuMillis: 500, networkDisabled: false };
    const ran = await container.claim({ name: 'paas-build-demo.app-2', resources, input: Readable.from([Buffer.from('the source')]), onOutput: async (chunk) => void output.push(chunk.toString()) });

    expect(ran).toEqual({ containerId: 'c1', exitCode: 0 });
    expect(calls.slice(2)).toEqual(['rename c1 paas-build-demo.app-2', `update c1 ${JSON.stringify({ Memory: 256 << 20, MemorySwap: 256 << 20, NanoCpus: 500_000_000 })}`]);
    expect(output).toEqual(['builder says hi\n']);
    expect(Buffer.concat(stdin).toString()).toBe('the source');
    await expect(container.gone).resolves.toBeUndefined();
  });

  it('keeps the limits it was made with when the run asks for the same, and is ContainerGoneError once it exited or when the engine no longer has it', async () => {
    const same = engine('');
    const kept = await same.runtime.startWaiting(waiting);
    await kept.claim({ name: 'paas-build-demo.app-2', input: Readable.from([]), onOutput: async () => undefined });
    expect(same.calls.filter((call) => call.startsWith('update'))).toEqual([]);

    const exited = engine('');
    const early = await exited.runtime.startWaiting(waiting);
    exited.exit(137);
    await early.gone;
    await expect(early.claim({ name: 'paas-build-demo.app-2', onOutput: async () => undefined })).rejects.toBeInstanceOf(ContainerGoneError);
    expect(exited.calls.at(-1)).toBe('remove c1');

    const removed = engine('', 404);
    await expect((await removed.runtime.startWaiting(waiting)).claim({ name: 'paas-build-demo.app-2', onOutput: async () => undefined })).rejects.toBeInstanceOf(ContainerGoneError);
    // Another run has the name (a second runner of the build): refused as a create would be.
    const taken = engine('', 409);
    await expect((await taken.runtime.startWaiting(waiting)).claim({ name: 'paas-build-demo.app-2', onOutput: async () => undefined })).rejects.toThrow('rename failed (409)');
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
