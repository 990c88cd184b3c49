import type Docker from 'dockerode';
import type { RegistryAuthConfig, RegistryCredentials } from '@paas/platform/registry-tokens';
import { ImagePullError, type RunRequest } from './container-runtime';
import type { DockerClient } from './docker-client';
import { DockerRuntime, podNetwork, runsAsRoot } from './docker-runtime';

const REGISTRY = '127.0.0.1:5000';

/** An engine without any image, whose pulls are recorded with what they presented. */
function engine(pullFailure?: string) {
  const pulls: { reference: string; auth?: RegistryAuthConfig }[] = [];
  let pulled = false;
  const docker = {
    inspectImage: async () => (pulled ? { Config: { User: '1001' } } : undefined),
    pullImage: async (reference: string, auth?: RegistryAuthConfig) => {
      pulls.push({ reference, auth });
      if (pullFailure) throw new Error(pullFailure);
      pulled = true;
    },
    inspectNetwork: async () => undefined,
    createNetwork: async () => 'created',
    createContainer: async () => ({ id: 'c1' }),
    startContainer: async () => undefined,
    inspectContainer: async () => ({ Id: 'c1', Config: { Labels: {} }, State: { Status: 'running' }, NetworkSettings: { Ports: {} } }),
  } as unknown as DockerClient;
  return { docker, pulls };
}

const credentials = (failure?: string): RegistryCredentials & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    async authConfig(repository, actions) {
      asked.push(`${repository}:${actions.join(',')}`);
      if (failure) throw new Error(failure);
      return { registrytoken: `token-for-${repository}` };
    },
  };
};

const run = (runtime: DockerRuntime, image: string, request: Partial<RunRequest> = {}) => runtime.run({ name: 'demo.web-1-abc', hostname: 'web-1-abc', namespace: 'demo', image, env: [], labels: {}, ...request });

describe('DockerRuntime image pulls', () => {
  it('pulls an image of the platform registry with a pull token for its repository', async () => {
    const { docker, pulls } = engine();
    const tokens = credentials();
    await run(new DockerRuntime(docker, 'local', { host: REGISTRY, credentials: tokens }), `${REGISTRY}/demo/web@sha256:${'a'.repeat(64)}`);
    expect(tokens.asked).toEqual(['demo/web:pull']);
    expect(pulls).toEqual([{ reference: `${REGISTRY}/demo/web@sha256:${'a'.repeat(64)}`, auth: { registrytoken: 'token-for-demo/web' } }]);
  });

  it('pulls an image of another registry without a token', async () => {
    const { docker, pulls } = engine();
    const tokens = credentials();
    await run(new DockerRuntime(docker, 'local', { host: REGISTRY, credentials: tokens }), 'docker.example/library/web:1');
    expect(tokens.asked).toEqual([]);
    expect(pulls).toEqual([{ reference: 'docker.example/library/web:1', auth: undefined }]);
  });

  it('answers ImagePullError when no token can be had, without pulling', async () => {
    const { docker, pulls } = engine();
    const runtime = new DockerRuntime(docker, 'local', { host: REGISTRY, credentials: credentials('no registry token for demo/web from the api-gateway: down') });
    await expect(run(runtime, `${REGISTRY}/demo/web:latest`)).rejects.toEqual(
      new ImagePullError(`pulling ${REGISTRY}/demo/web:latest failed: no registry token for demo/web from the api-gateway: down`),
    );
    expect(pulls).toEqual([]);
  });

  it('answers ImagePullError with the engine message when the pull fails', async () => {
    const { docker } = engine('manifest unknown');
    await expect(run(new DockerRuntime(docker), 'paas-test/web:v1')).rejects.toBeInstanceOf(ImagePullError);
  });
});

describe('DockerRuntime containers of one platform instance', () => {
  const listing = (id: string, labels: Record<string, string>) => ({ Id: id, Labels: labels, State: 'running', Ports: [], NetworkSettings: { Networks: {} } });

  afterEach(() => delete process.env.PAAS_INSTANCE);

  it('labels what it runs with its instance and lists only the containers of that instance', async () => {
    process.env.PAAS_INSTANCE = 'blue';
    const created: { Labels?: Record<string, string> }[] = [];
    const docker = {
      ...engine().docker,
      inspectImage: async () => ({ Config: {} }),
      createContainer: async (options: { Labels?: Record<string, string> }) => (created.push(options), { id: 'c1' }),
      listContainers: async () => [
        listing('mine', { 'paas.dev/managed-by': 'deploy-service', 'paas.dev/instance': 'blue' }),
        listing('theirs', { 'paas.dev/managed-by': 'deploy-service', 'paas.dev/instance': 'green' }),
        listing('unlabelled', { 'paas.dev/managed-by': 'deploy-service' }),
      ],
    } as unknown as DockerClient;
    const runtime = new DockerRuntime(docker);
    await run(runtime, 'paas-test/web:v1');
    expect(created[0].Labels).toMatchObject({ 'paas.dev/managed-by': 'deploy-service', 'paas.dev/instance': 'blue' });
    expect((await runtime.listByOwner({})).map((c) => c.id)).toEqual(['mine']);
  });

  it('counts containers from before the instance label as the default instance', async () => {
    const docker = {
      listContainers: async () => [listing('theirs', { 'paas.dev/instance': 'green' }), listing('unlabelled', {})],
    } as unknown as DockerClient;
    expect((await new DockerRuntime(docker).listByOwner({})).map((c) => c.id)).toEqual(['unlabelled']);
  });
});

/**
 * An engine that keeps networks and containers in memory, as far as the runtime uses them, and
 * records what it was asked: enough to see the calls a pod's start and removal make.
 */
function memoryEngine(options: { imageUser?: string } = {}) {
  const calls: string[] = [];
  const networks = new Map<string, Docker.NetworkCreateOptions>();
  const containers = new Map<string, Docker.ContainerCreateOptions>();
  let next = 0;
  const docker = {
    inspectImage: async () => ({ Config: { User: options.imageUser ?? '' } }),
    pullImage: async () => undefined,
    inspectNetwork: async (name: string) => {
      const network = networks.get(name);
      return network && { Name: name, Labels: network.Labels };
    },
    createNetwork: async (network: Docker.NetworkCreateOptions) => {
      calls.push(`create network ${network.Name}`);
      networks.set(network.Name, network);
      return 'created';
    },
    removeNetwork: async (name: string) => {
      calls.push(`remove network ${name}`);
      networks.delete(name);
      return 'removed';
    },
    createContainer: async (container: Docker.ContainerCreateOptions) => {
      if (!networks.has(String(container.HostConfig?.NetworkMode))) throw new Error(`network ${container.HostConfig?.NetworkMode} not found`);
      const id = `c${++next}`;
      containers.set(id, container);
      calls.push(`create ${id} in ${container.HostConfig?.NetworkMode}`);
      return { id };
    },
    startContainer: async () => undefined,
    inspectContainer: async (id: string) => {
      const container = containers.get(id);
      return container && { Id: id, Config: { Labels: container.Labels, User: container.User }, State: { Status: 'running' }, NetworkSettings: { Ports: {}, Networks: { [String(container.HostConfig?.NetworkMode)]: { IPAddress: '172.18.0.2' } } } };
    },
    stopContainer: async () => undefined,
    removeContainer: async (id: string) => {
      calls.push(`remove ${id}`);
      containers.delete(id);
    },
    listContainers: async (filters: { label: string[] }) =>
      [...containers.entries()]
        .filter(([, c]) => filters.label.every((pair) => c.Labels?.[pair.slice(0, pair.indexOf('='))] === pair.slice(pair.indexOf('=') + 1)))
        .map(([id, c]) => ({ Id: id, Labels: c.Labels, State: 'running', Ports: [], NetworkSettings: { Networks: {} } })),
  } as unknown as DockerClient;
  return { docker, calls, networks, containers };
}

describe('DockerRuntime pod networks', () => {
  afterEach(() => delete process.env.PAAS_INSTANCE);

  it("runs a namespace's first pod in a network made for the namespace, labelled with the instance, on a bridge the node's firewall knows", async () => {
    process.env.PAAS_INSTANCE = 'blue';
    const { docker, calls, networks, containers } = memoryEngine();
    const started = await run(new DockerRuntime(docker), 'paas-test/web:v1');
    const { name, bridge } = podNetwork('blue', 'demo');
    expect(name).toBe('paas-blue-demo');
    expect(bridge).toMatch(/^paaspod[0-9a-f]{8}$/);
    expect(calls).toEqual([`create network ${name}`, `create c1 in ${name}`]);
    expect(networks.get(name)).toMatchObject({
      Driver: 'bridge',
      Labels: { 'paas.dev/managed-by': 'deploy-service', 'paas.dev/namespace': 'demo', 'paas.dev/instance': 'blue' },
      Options: { 'com.docker.network.bridge.name': bridge },
    });
    expect(containers.get('c1')?.Labels).toMatchObject({ 'paas.dev/namespace': 'demo', 'paas.dev/instance': 'blue' });
    expect(started.ip).toBe('172.18.0.2');
  });

  it('keeps one network per namespace: a second pod joins it, another namespace gets its own', async () => {
    const { docker, calls } = memoryEngine();
    const runtime = new DockerRuntime(docker);
    await run(runtime, 'paas-test/web:v1', { name: 'a' });
    await run(runtime, 'paas-test/web:v1', { name: 'b' });
    await run(runtime, 'paas-test/web:v1', { name: 'c', namespace: 'other' });
    expect(calls).toEqual(['create network paas-default-demo', 'create c1 in paas-default-demo', 'create c2 in paas-default-demo', 'create network paas-default-other', 'create c3 in paas-default-other']);
  });

  it('starts pods of one namespace side by side, making its network once', async () => {
    const { docker, calls } = memoryEngine();
    const create = docker.createContainer.bind(docker);
    let creating = 0;
    let most = 0;
    docker.createContainer = async (container) => {
      most = Math.max(most, ++creating);
      await new Promise((resolve) => setImmediate(resolve));
      creating--;
      return create(container);
    };
    const runtime = new DockerRuntime(docker);
    await Promise.all(['a', 'b', 'c'].map((name) => run(runtime, 'paas-test/web:v1', { name })));
    expect(most).toBe(3);
    expect(calls.filter((call) => call.startsWith('create network'))).toEqual(['create network paas-default-demo']);
    expect(calls.filter((call) => call.startsWith('create c'))).toHaveLength(3);
  });

  it('removes the network with the last pod of its namespace on the node, not before', async () => {
    const { docker, calls, networks } = memoryEngine();
    const runtime = new DockerRuntime(docker);
    const first = await run(runtime, 'paas-test/web:v1', { name: 'a' });
    const second = await run(runtime, 'paas-test/web:v1', { name: 'b' });
    calls.length = 0;
    await runtime.remove(first.id, { graceSeconds: 0 });
    expect(calls).toEqual(['remove c1']);
    await runtime.remove(second.id, { graceSeconds: 0 });
    expect(calls).toEqual(['remove c1', 'remove c2', 'remove network paas-default-demo']);
    expect(networks.size).toBe(0);
  });

  it('never lets a pod start in a network it took away: a start and a removal of the same namespace take turns', async () => {
    for (let delay = 0; delay < 6; delay++) {
      const { docker, networks, containers } = memoryEngine();
      const runtime = new DockerRuntime(docker);
      const first = await run(runtime, 'paas-test/web:v1', { name: 'a' });
      const started = (async () => {
        for (let tick = 0; tick < delay; tick++) await Promise.resolve();
        return run(runtime, 'paas-test/web:v1', { name: 'b' });
      })();
      await runtime.remove(first.id, { graceSeconds: 0 });
      const second = await started;
      expect([...containers.keys()]).toEqual([second.id]);
      expect(networks.has('paas-default-demo')).toBe(true);
    }
  });

  it('refuses a network of that name that this platform did not make', async () => {
    const { docker, networks } = memoryEngine();
    networks.set('paas-default-demo', { Name: 'paas-default-demo', Labels: { 'paas.dev/instance': 'someone-else' } });
    await expect(run(new DockerRuntime(docker), 'paas-test/web:v1')).rejects.toThrow('the Docker network paas-default-demo on node local was not made by this platform for namespace demo');
  });
});

describe('DockerRuntime pod confinement', () => {
  const hostConfig = async (imageUser: string, request: Partial<RunRequest> = {}) => {
    const { docker, containers } = memoryEngine({ imageUser });
    await run(new DockerRuntime(docker, 'local', undefined, '127.0.0.1', '1001:0'), 'paas-test/web:v1', { containerPort: 8080, ...request });
    return containers.get('c1') as Docker.ContainerCreateOptions;
  };

  it('drops every capability, forbids gaining any, and limits memory (no swap on top) and processes', async () => {
    const created = await hostConfig('1001', { memoryBytes: 512 * 1024 ** 2, pidsLimit: 1024 });
    expect(created.HostConfig).toMatchObject({ CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 512 * 1024 ** 2, MemorySwap: 512 * 1024 ** 2, PidsLimit: 1024, Init: true });
    expect(created.HostConfig?.CapAdd).toBeUndefined();
    expect(created.HostConfig?.Privileged).toBeUndefined();
    expect(created.HostConfig?.Sysctls).toBeUndefined();
  });

  it.each([
    ['', true],
    ['root', true],
    ['0', true],
    ['0:0', true],
    ['root:staff', true],
    ['1001', false],
    ['1001:0', false],
    ['node', false],
  ])('an image whose USER is %j runs as root: %s', (user, root) => expect(runsAsRoot(user)).toBe(root));

  it("runs an image that would run as root as the platform's user, and keeps an image's own non-root user", async () => {
    expect((await hostConfig('')).User).toBe('1001:0');
    expect((await hostConfig('root')).User).toBe('1001:0');
    expect((await hostConfig('1001')).User).toBeUndefined();
    expect((await hostConfig('www-data')).User).toBeUndefined();
  });

  it('makes the root filesystem read-only when asked, /tmp a small tmpfs, and leaves it writable otherwise', async () => {
    const created = await hostConfig('1001', { readOnlyRootFilesystem: true });
    expect(created.HostConfig).toMatchObject({ ReadonlyRootfs: true, Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=67108864,mode=1777' } });
    const writable = await hostConfig('1001');
    expect(writable.HostConfig?.ReadonlyRootfs).toBeUndefined();
    expect(writable.HostConfig?.Tmpfs).toBeUndefined();
  });

  it('lets a pod bind a port below 1024 in its own network namespace, with no capability added', async () => {
    const created = await hostConfig('1001', { containerPort: 80 });
    expect(created.HostConfig).toMatchObject({ Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' }, CapDrop: ['ALL'] });
    expect(created.HostConfig?.CapAdd).toBeUndefined();
  });
});
