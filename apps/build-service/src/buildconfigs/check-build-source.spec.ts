import type { BuildConfigSpec } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { GitError, type Git } from '../adapters/git-cli';
import { SourceSecretError, type SourceSecrets } from '../adapters/source-secrets';
import type { BuilderStreams } from '../adapters/builder-streams';
import type { BuildSettings } from '../build-settings';
import type { ContainerRuntime } from '../builds/pipeline/container-runtime';
import { aNode, FakeBuildNodes } from '../testing/fake-nodes';
import { CheckBuildSource } from './check-build-source';
import { parseBuildConfig } from './create-buildconfig.usecase';

const settings: BuildSettings = { registryHost: 'r:5000', buildsDir: '/tmp', builders: { nodejs: 'paas-builder/nodejs:latest' }, allowLocalSources: true, strategies: ['Source', 'Docker'], gitCheckTimeoutMs: 1000, logMaxBytes: 1 << 20, containerLimits: { memoryBytes: 1 << 30, pidsLimit: 100 }, concurrency: 4, resyncMs: 300_000, nodeWaitMs: 600_000, binaryLimits: { maxEntries: 1000, maxUnpackedBytes: 1 << 20 }, warmContainers: true };

function body(overrides: { ref?: string; builder?: { kind: string; name: string; namespace?: string }; uri?: string } = {}) {
  return {
    metadata: { name: 'app' },
    spec: {
      source: { git: { uri: overrides.uri ?? 'https://git.example/app.git', ref: overrides.ref ?? 'main' } },
      strategy: { sourceStrategy: { from: overrides.builder ?? { kind: 'Builder', name: 'nodejs' } } },
      output: { to: { kind: 'ImageStreamTag', name: 'app:latest' } },
    },
  };
}

/** Source secrets as a BuildConfig without one sees them. */
const noSecrets: SourceSecrets = { credentials: async () => undefined };
/** A builder stream tag `builders:node` in namespaces demo, shared and private. */
const streams: BuilderStreams = { imageOf: async (namespace, name) => (['demo', 'shared', 'private'].includes(namespace) && name === 'builders:node' ? `r:5000/${namespace}/builders@sha256:${'b'.repeat(64)}` : undefined) };
/** Namespace shared lets the builds of demo pull its images, private does not. */
const credentials: RegistryCredentials = {
  authConfig: async (repository, actions, options) => {
    if (options?.forBuildsOf && repository.startsWith('private/')) throw ApiError.of('Forbidden', `the builds of namespace ${options.forBuildsOf} may not ${actions.join(' or ')} ${repository}`);
    return { registrytoken: 'token' };
  },
};

function checker(options: { images?: string[]; gitError?: GitError } = {}) {
  const images = new Set(options.images ?? ['paas-builder/nodejs:latest']);
  const runtime = { inspectImage: async (ref: string) => (images.has(ref) ? { id: 'x', labels: {} } : undefined) } as unknown as ContainerRuntime;
  const git: Git = {
    checkRef: async () => {
      if (options.gitError) throw options.gitError;
    },
    fetch: jest.fn(),
    read: jest.fn(),
    archive: jest.fn(),
    importTree: jest.fn(),
  };
  return new CheckBuildSource(new FakeBuildNodes([aNode('local')], { local: runtime }), git, settings, noSecrets, streams, credentials);
}

function specOf(input: object): BuildConfigSpec {
  return parseBuildConfig('demo', input).spec;
}

describe('BuildConfig input validation', () => {
  it('refuses a ref git would read as an option, naming the field', () => {
    expect(() => parseBuildConfig('demo', body({ ref: '--upload-pack=evil' }))).toThrow(
      expect.objectContaining({ status: expect.objectContaining({ code: 422, details: expect.objectContaining({ causes: [expect.objectContaining({ field: 'spec.source.git.ref' })] }) }) }),
    );
  });

  it('refuses a body in another namespace', () => {
    expect(() => parseBuildConfig('demo', { ...body(), metadata: { name: 'app', namespace: 'other' } })).toThrow(expect.objectContaining({ status: expect.objectContaining({ code: 400 }) }));
  });

  it('names the catalog when the builder is unknown', async () => {
    await expect(checker().execute('demo', 'app', specOf(body({ builder: { kind: 'Builder', name: 'x' } })))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.strategy.sourceStrategy.from.name', message: 'unknown builder "x"; available: nodejs' }] } },
    });
  });

  it('refuses a DockerImage builder that is not on the build host', async () => {
    await expect(checker().execute('demo', 'app', specOf(body({ builder: { kind: 'DockerImage', name: 'busybox:none' } })))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.strategy.sourceStrategy.from.name', message: 'image "busybox:none" does not exist on any build node (local)' }] } },
    });
  });

  it('points at the ref when the repository lacks it, and at the uri when it cannot be reached', async () => {
    await expect(checker({ gitError: new GitError('no branch or tag "nope" in the repository', 'ref-not-found') }).execute('demo', 'app', specOf(body({ ref: 'nope' })))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.source.git.ref', message: 'no branch or tag "nope" in the repository https://git.example/app.git' }] } },
    });
    await expect(checker({ gitError: new GitError('repository did not answer within 8 s', 'timeout') }).execute('demo', 'app', specOf(body()))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.source.git.uri' }] } },
    });
  });

  it('never repeats the credentials of the git URL in its messages', async () => {
    const uri = 'https://ann:s3cret-token@git.example/app.git';
    const unreachable = checker({ gitError: new GitError(`Command failed: git ls-remote -- ${uri}`, 'unreachable') });
    const refused = await unreachable.execute('demo', 'app', specOf(body({ uri }))).catch((error: unknown) => error);
    const missingRef = await checker({ gitError: new GitError('no branch or tag "nope" in the repository', 'ref-not-found') })
      .execute('demo', 'app', specOf(body({ uri, ref: 'nope' })))
      .catch((error: unknown) => error);
    for (const error of [refused, missingRef]) {
      expect(JSON.stringify(error)).not.toContain('s3cret-token');
      expect(JSON.stringify(error)).toContain('https://***@git.example/app.git');
    }
  });

  it('reports a bad builder and a bad source together', async () => {
    const check = checker({ images: [], gitError: new GitError('gone', 'unreachable') });
    await expect(check.execute('demo', 'app', specOf(body()))).rejects.toMatchObject({
      status: { details: { causes: [{ field: 'spec.strategy.sourceStrategy.from.name' }, { field: 'spec.source.git.uri' }] } },
    });
  });

  it("takes another namespace's builder stream tag only when that namespace lets this one's builds pull it, saying nothing of its tags otherwise", async () => {
    const from = (namespace: string, name = 'builders:node') => specOf(body({ builder: { kind: 'ImageStreamTag', namespace, name } }));
    await expect(checker().execute('demo', 'app', from('shared'))).resolves.toBeUndefined();
    await expect(checker().execute('demo', 'app', from('shared', 'builders:gone'))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.strategy.sourceStrategy.from.name', message: 'image stream tag "builders:gone" does not exist in namespace shared, or has no image yet' }] } },
    });
    for (const name of ['builders:node', 'builders:gone']) {
      await expect(checker().execute('demo', 'app', from('private', name))).rejects.toMatchObject({
        status: { code: 422, details: { causes: [{ field: 'spec.strategy.sourceStrategy.from.namespace', reason: 'Forbidden', message: 'the builds of namespace demo may not pull private/builders' }] } },
      });
    }
  });

  it("refuses a builder stream tag that names its own namespace and the BuildConfig's output, and a namespace on a builder of another kind", async () => {
    await expect(checker().execute('demo', 'app', specOf(body({ builder: { kind: 'ImageStreamTag', namespace: 'demo', name: 'app:latest' } })))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.output.to.name', message: expect.stringContaining('cannot push to the ImageStreamTag it builds with') }] } },
    });
    expect(() => specOf(body({ builder: { kind: 'Builder', namespace: 'shared', name: 'nodejs' } }))).toThrow(
      expect.objectContaining({ status: expect.objectContaining({ code: 422, details: expect.objectContaining({ causes: [expect.objectContaining({ field: 'spec.strategy.sourceStrategy.from.namespace' })] }) }) }),
    );
  });

  it('accepts a known builder and a reachable ref', async () => {
    await expect(checker().execute('demo', 'app', specOf(body()))).resolves.toBeUndefined();
  });
});

describe('local repository paths', () => {
  const git = { checkRef: jest.fn(async () => undefined) } as unknown as Git;
  const nodes = new FakeBuildNodes([aNode('local')], { local: { inspectImage: async () => ({ id: 'x', labels: {}, user: '1001' }) } as unknown as ContainerRuntime });
  const check = (allowLocalSources: boolean, uri: string) => new CheckBuildSource(nodes, git, { ...settings, allowLocalSources }, noSecrets, streams, credentials).execute('demo', 'app', specOf(body({ uri })));

  it('refuses a path or file:// repository unless local sources are allowed, naming the field and the setting', async () => {
    for (const uri of ['/srv/repos/app', 'file:///srv/repos/app']) {
      await expect(check(false, uri)).rejects.toMatchObject({
        status: { code: 422, details: { causes: [{ field: 'spec.source.git.uri', reason: 'Forbidden', message: expect.stringContaining('BUILD_LOCAL_SOURCES=allow') }] } },
      });
      await expect(check(true, uri)).resolves.toBeUndefined();
    }
    await expect(check(false, 'https://git.example/app.git')).resolves.toBeUndefined();
  });
});

describe('source secrets', () => {
  it('refuses a BuildConfig whose source secret is missing, naming the field; the git check gets the credentials of one that is there', async () => {
    const checked: unknown[] = [];
    const git = { checkRef: async (...args: unknown[]) => void checked.push(args[3]) } as unknown as Git;
    const secrets: SourceSecrets = {
      credentials: async (_namespace, source) => {
        if (source.sourceSecret?.name === 'gone') throw new SourceSecretError('source secret "gone" does not exist in namespace demo', 'NotFound');
        return { kind: 'basic', username: 'ann', password: 'tok3n' };
      },
    };
    const check = new CheckBuildSource(new FakeBuildNodes([aNode('local')], {}), git, settings, secrets, streams, credentials);
    const withSecret = (name: string) => ({ ...body(), spec: { ...body().spec, source: { ...body().spec.source, sourceSecret: { name } } } });
    await expect(check.execute('demo', 'app', specOf(withSecret('gone')))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.source.sourceSecret.name', reason: 'NotFound' }] } },
    });
    await expect(check.execute('demo', 'app', specOf(withSecret('repo')))).resolves.toBeUndefined();
    expect(checked).toEqual([{ kind: 'basic', username: 'ann', password: 'tok3n' }]);
  });
});

describe('strategies an operator turned off', () => {
  const git = { checkRef: jest.fn(async () => undefined) } as unknown as Git;
  const nodes = new FakeBuildNodes([aNode('local')], {});
  const docker = { ...body(), spec: { ...body().spec, strategy: { type: 'Docker', dockerStrategy: {} } } };

  it('refuses a Docker BuildConfig where only Source is allowed, naming the field and the setting', async () => {
    await expect(new CheckBuildSource(nodes, git, { ...settings, strategies: ['Source'] }, noSecrets, streams, credentials).execute('demo', 'app', specOf(docker))).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.strategy.type', reason: 'Forbidden', message: expect.stringContaining('BUILD_STRATEGIES=Source') }] } },
    });
    await expect(new CheckBuildSource(nodes, git, settings, noSecrets, streams, credentials).execute('demo', 'app', specOf(docker))).resolves.toBeUndefined();
  });
});

describe('the builder image check across nodes', () => {
  const git = { checkRef: async () => undefined } as unknown as Git;
  const settings = { builders: { nodejs: 'paas-builder/nodejs:latest' }, strategies: ['Source'], gitCheckTimeoutMs: 1000 } as unknown as BuildSettings;
  const has = (found: boolean) => ({ inspectImage: async () => (found ? { id: 'x', labels: {} } : undefined) }) as unknown as ContainerRuntime;
  const deaf = { inspectImage: () => Promise.reject(new Error('connect ECONNREFUSED')) } as unknown as ContainerRuntime;
  const spec = () => specOf(body());

  it('accepts a builder found on any node builds can run on, and ignores the others', async () => {
    const nodes = new FakeBuildNodes([aNode('local'), aNode('node-1'), aNode('node-2', { unschedulable: true })], { local: has(false), 'node-1': has(true), 'node-2': has(false) });
    await expect(new CheckBuildSource(nodes, git, settings, noSecrets, streams, credentials).execute('demo', 'app', spec())).resolves.toBeUndefined();
  });

  it('cannot ask with no node to build on, and leaves it to the build (which waits for one)', async () => {
    const nodes = new FakeBuildNodes([aNode('local', { ready: false })], { local: has(false) });
    await expect(new CheckBuildSource(nodes, git, settings, noSecrets, streams, credentials).execute('demo', 'app', spec())).resolves.toBeUndefined();
  });

  it('answers 503, not 500, when no node engine answers', async () => {
    const nodes = new FakeBuildNodes([aNode('local')], { local: deaf });
    await expect(new CheckBuildSource(nodes, git, settings, noSecrets, streams, credentials).execute('demo', 'app', spec())).rejects.toMatchObject({ status: { code: 503 } });
  });
});
