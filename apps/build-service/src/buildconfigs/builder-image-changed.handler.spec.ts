import type { BuildConfig } from '@paas/contracts/builds';
import { buildConfigInput } from '@paas/contracts/builds';
import type { EventBus } from '@paas/platform/events';
import { InMemoryFeed, InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import type { ResourceFeed } from '@paas/platform/resource-feed';
import type { BuildSettings } from '../build-settings';
import { BuildConfigCache } from './buildconfig-cache';
import type { BuildConfigRepository } from './buildconfig.repository';
import { BuilderImageChangedHandler } from './builder-image-changed.handler';
import type { InstantiateBuild } from './instantiate-build.usecase';

type Pushed = { data: { namespace: string; name: string; tag: string; image: string } };

describe('BuilderImageChangedHandler', () => {
  it('starts a build of every BuildConfig that follows the pushed stream tag with an ImageChange trigger, in any namespace, read from the cache', async () => {
    const feed = new InMemoryFeed();
    const configs = new InMemoryResourceRepository<BuildConfig>('BuildConfig', { feed });
    const seed = (namespace: string, name: string, from: object, triggers: object[] = [{ type: 'ImageChange' }]) => {
      const spec = { source: { git: { uri: 'https://git.example/app.git' } }, strategy: { sourceStrategy: { from } }, output: { to: { kind: 'ImageStreamTag', name: `${name}:latest` } }, triggers };
      const metadata = { name, namespace, uid: `uid-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' };
      configs.seed({ apiVersion: 'v1', kind: 'BuildConfig', metadata, spec: buildConfigInput.parse({ metadata: { name }, spec }).spec, status: { lastVersion: 1 } });
    };
    seed('demo', 'app', { kind: 'ImageStreamTag', name: 'builders:node' });
    seed('demo', 'manual', { kind: 'ImageStreamTag', name: 'builders:node' }, [{ type: 'ConfigChange' }]);
    seed('other', 'own', { kind: 'ImageStreamTag', name: 'builders:node' });
    const cache = new BuildConfigCache(configs as unknown as BuildConfigRepository, feed as unknown as ResourceFeed, { resyncMs: 60_000 } as BuildSettings);
    await cache.onModuleInit();
    // Made once the cache had listed: the change feed brings it in.
    seed('other', 'cross', { kind: 'ImageStreamTag', namespace: 'demo', name: 'builders:node' });
    const started: string[] = [];
    const instantiate = { forImageChange: async (namespace: string, name: string, from: string, image: string) => void started.push(`${namespace}/${name} ${from} ${image}`) };
    let handle: (event: Pushed) => Promise<void> = async () => undefined;
    const events = { subscribe: async (_type: string, handler: typeof handle) => void (handle = handler) };
    await new BuilderImageChangedHandler(events as unknown as EventBus, cache, instantiate as unknown as InstantiateBuild).onApplicationBootstrap();
    const listed = jest.spyOn(configs, 'list');

    await handle({ data: { namespace: 'demo', name: 'builders', tag: 'node', image: 'sha256:one' } });

    expect(started.sort()).toEqual(['demo/app builders:node sha256:one', 'other/cross demo/builders:node sha256:one']);
    expect(listed).not.toHaveBeenCalled();
    cache.onApplicationShutdown();
  });
});
