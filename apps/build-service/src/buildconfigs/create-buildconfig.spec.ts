import type { Build, BuildConfig } from '@paas/contracts/builds';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import type { BuildSettings } from '../build-settings';
import type { BuildRepository } from '../builds/build.repository';
import type { BuildConfigRepository } from './buildconfig.repository';
import type { CheckBuildSource } from './check-build-source';
import { CreateBuildConfig } from './create-buildconfig.usecase';
import { InstantiateBuild } from './instantiate-build.usecase';

const body = (name: string, spec: object = {}) => ({
  metadata: { name },
  spec: { source: { git: { uri: 'https://git.example/app.git' } }, strategy: { sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' } } }, output: { to: { kind: 'ImageStreamTag', name: `${name}:latest` } }, ...spec },
});

function setup() {
  const configs = new InMemoryResourceRepository<BuildConfig>('BuildConfig');
  const builds = new InMemoryResourceRepository<Build>('Build');
  const instantiate = new InstantiateBuild(configs as unknown as BuildConfigRepository, builds as unknown as BuildRepository, { registryHost: 'r:5000' } as BuildSettings);
  const check = { execute: async () => undefined } as unknown as CheckBuildSource;
  return { configs, builds, create: new CreateBuildConfig(configs as unknown as BuildConfigRepository, check, instantiate) };
}

describe('CreateBuildConfig', () => {
  it('stores a BuildConfig with a ConfigChange trigger with its first build counted, and makes that build', async () => {
    const { configs, builds, create } = setup();
    const created = await create.execute('demo', body('app'));
    expect(created.status.lastVersion).toBe(1);
    expect((await configs.get('demo', 'app')).status.lastVersion).toBe(1);
    const [build] = await builds.list();
    expect(build.metadata.name).toBe('app-1');
    expect(build.spec.triggeredBy).toEqual([{ message: 'Build configuration change' }]);
  });

  it('starts no build for a BuildConfig without a ConfigChange trigger, or of uploaded files, nor on a dry run', async () => {
    const { builds, create } = setup();
    expect((await create.execute('demo', body('manual', { triggers: [] }))).status.lastVersion).toBe(0);
    const binary = { source: { binary: {} } };
    expect((await create.execute('demo', body('bin', binary))).status.lastVersion).toBe(0);
    await create.execute('demo', body('dry'), true);
    expect(await builds.list()).toEqual([]);
  });
});
