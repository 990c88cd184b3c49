import type { RegistryAuthConfig, RegistryCredentials } from '@paas/platform/registry-tokens';
import { ImagePullError } from './container-runtime';
import type { DockerClient } from './docker-client';
import { DockerRuntime } from './docker-runtime';

const REGISTRY = '127.0.0.1:5000';

/** An engine without any image, whose pulls are recorded with what they presented. */
function engine(pullFailure?: string) {
  const pulls: { reference: string; auth?: RegistryAuthConfig }[] = [];
  const docker = {
    hasImage: async () => false,
    pullImage: async (reference: string, auth?: RegistryAuthConfig) => {
      pulls.push({ reference, auth });
      if (pullFailure) throw new Error(pullFailure);
    },
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

const run = (runtime: DockerRuntime, image: string) => runtime.run({ name: 'demo.web-1-abc', image, env: [], labels: {} });

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
      hasImage: async () => true,
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
