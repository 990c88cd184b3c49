import type { Build, BuildConfig } from '@paas/contracts/builds';
import { buildConfigInput } from '@paas/contracts/builds';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import type { BuildSettings } from '../build-settings';
import type { BuildRepository } from '../builds/build.repository';
import type { BuildConfigRepository } from './buildconfig.repository';
import { InstantiateBuild } from './instantiate-build.usecase';

const spec = (triggers: object[], from = { kind: 'ImageStreamTag', name: 'builders:node' }, output = 'app:latest') => ({
  source: { git: { uri: 'https://git.example/app.git' } },
  strategy: { sourceStrategy: { from } },
  output: { to: { kind: 'ImageStreamTag', name: output } },
  triggers,
});

describe('ImageChange triggers', () => {
  it('start one build per new image of the builder stream tag, however often the event comes', async () => {
    const configs = new InMemoryResourceRepository<BuildConfig>('BuildConfig');
    const builds = new InMemoryResourceRepository<Build>('Build');
    const parsed = buildConfigInput.parse({ metadata: { name: 'app' }, spec: spec([{ type: 'ImageChange' }]) });
    configs.seed({ apiVersion: 'v1', kind: 'BuildConfig', metadata: { name: 'app', namespace: 'demo', uid: 'uid-app', resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: parsed.spec, status: { lastVersion: 1 } });
    const instantiate = new InstantiateBuild(configs as unknown as BuildConfigRepository, builds as unknown as BuildRepository, { registryHost: 'r:5000' } as BuildSettings);

    const first = await instantiate.forImageChange('demo', 'app', 'builders:node', 'sha256:one');
    expect(first?.metadata.name).toBe('app-2');
    expect(first?.spec.triggeredBy).toEqual([{ message: 'Image change: builders:node is now sha256:one' }]);
    expect(await instantiate.forImageChange('demo', 'app', 'builders:node', 'sha256:one')).toBeUndefined();
    expect((await instantiate.forImageChange('demo', 'app', 'builders:node', 'sha256:two'))?.metadata.name).toBe('app-3');
    expect((await configs.get('demo', 'app')).status).toEqual({ lastVersion: 3, imageChangeTriggers: [{ from: 'builders:node', lastTriggeredImageID: 'sha256:two' }] });
    expect((await builds.list()).map((build) => build.metadata.name)).toEqual(['app-2', 'app-3']);
  });

  it('are refused without a builder stream tag, or on a BuildConfig that pushes to the tag it builds with', () => {
    const causes = (body: object) => buildConfigInput.safeParse({ metadata: { name: 'app' }, spec: body }).error?.issues.map((issue) => issue.path.join('.'));
    expect(causes(spec([{ type: 'ImageChange' }], { kind: 'Builder', name: 'nodejs' }))).toEqual(['spec.triggers']);
    expect(causes(spec([{ type: 'ImageChange' }], undefined, 'builders:node'))).toEqual(['spec.output.to.name']);
    expect(causes(spec([{ type: 'ImageChange' }]))).toBeUndefined();
  });
});

describe('Binary BuildConfigs', () => {
  const binarySpec = { source: { binary: {} }, strategy: { sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' } } }, output: { to: { kind: 'ImageStreamTag', name: 'app:latest' } } };
  const upload = { object: 'object-1', bytes: 10, sha256: 'a'.repeat(64) };

  function instantiator() {
    const configs = new InMemoryResourceRepository<BuildConfig>('BuildConfig');
    const builds = new InMemoryResourceRepository<Build>('Build');
    const meta = (name: string) => ({ name, namespace: 'demo', uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' });
    configs.seed({ apiVersion: 'v1', kind: 'BuildConfig', metadata: meta('bin'), spec: buildConfigInput.parse({ metadata: { name: 'bin' }, spec: binarySpec }).spec, status: { lastVersion: 0 } });
    configs.seed({ apiVersion: 'v1', kind: 'BuildConfig', metadata: meta('git'), spec: buildConfigInput.parse({ metadata: { name: 'git' }, spec: spec([]) }).spec, status: { lastVersion: 0 } });
    return { instantiate: new InstantiateBuild(configs as unknown as BuildConfigRepository, builds as unknown as BuildRepository, { registryHost: 'r:5000' } as BuildSettings), builds };
  }

  it('are read as Binary when the source has binary and no git', () => {
    expect(buildConfigInput.parse({ metadata: { name: 'bin' }, spec: binarySpec }).spec.source).toEqual({ type: 'Binary', binary: {} });
    const causes = (source: object) => buildConfigInput.safeParse({ metadata: { name: 'x' }, spec: { ...binarySpec, source } }).error?.issues.map((issue) => issue.path.join('.'));
    expect(causes({ type: 'Binary', git: { uri: 'https://git.example/app.git' } })).toEqual(['spec.source.git']);
    expect(causes({ type: 'Git' })).toEqual(['spec.source.git']);
    expect(causes({ binary: { asFile: 'dir/app.py' } })).toEqual(['spec.source.binary.asFile']);
  });

  it('build from an upload only: the Build carries it and the revision, and a git BuildConfig or a plain instantiate is a 400', async () => {
    const { instantiate, builds } = instantiator();
    const build = await instantiate.forUpload({ namespace: 'demo', name: 'bin', upload, uploader: 'ann', revision: { message: 'from my laptop' } });
    expect(build.metadata.name).toBe('bin-1');
    expect(build.spec).toMatchObject({ binary: upload, revision: { message: 'from my laptop', author: 'ann' }, triggeredBy: [{ message: 'Binary upload by ann' }] });
    await expect(instantiate.forUpload({ namespace: 'demo', name: 'git', upload, uploader: 'ann' })).rejects.toMatchObject({ status: { code: 400 } });
    await expect(instantiate.execute('demo', 'bin', 'Manually triggered')).rejects.toMatchObject({ status: { code: 400, message: expect.stringContaining('instantiatebinary') } });
    expect((await builds.list()).map((b) => b.metadata.name)).toEqual(['bin-1']);
  });

  it('add what a generic webhook sends to the Source build\'s environment, the same name replaced', async () => {
    const configs = new InMemoryResourceRepository<BuildConfig>('BuildConfig');
    const builds = new InMemoryResourceRepository<Build>('Build');
    const body = { ...spec([]), strategy: { sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' }, env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] } } };
    configs.seed({ apiVersion: 'v1', kind: 'BuildConfig', metadata: { name: 'app', namespace: 'demo', uid: 'uid-app', resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: buildConfigInput.parse({ metadata: { name: 'app' }, spec: body }).spec, status: { lastVersion: 0 } });
    const instantiate = new InstantiateBuild(configs as unknown as BuildConfigRepository, builds as unknown as BuildRepository, { registryHost: 'r:5000' } as BuildSettings);
    const build = await instantiate.execute('demo', 'app', 'Generic WebHook', { env: [{ name: 'B', value: 'two' }, { name: 'C', value: '3' }] });
    expect(build.spec.strategy).toMatchObject({ sourceStrategy: { env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }, { name: 'C', value: '3' }] } });
  });
});

