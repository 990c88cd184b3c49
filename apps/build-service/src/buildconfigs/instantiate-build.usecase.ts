import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Build, BuildConfig } from '@paas/contracts/builds';
import { EventBus } from '@paas/platform/events';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildRepository } from '../builds/build.repository';
import { RunBuild } from '../builds/run-build.usecase';
import { BuildConfigRepository } from './buildconfig.repository';

export const BUILD_CONFIG_LABEL = 'buildconfig';
export const OPENSHIFT_BUILD_CONFIG_LABEL = 'openshift.io/build-config.name';

/**
 * A new Build `<bc>-<n>` from the BuildConfig's current spec, n = ++status.lastVersion (an
 * optimistic update, so concurrent calls get distinct numbers), then `build.requested`.
 */
@Injectable()
export class InstantiateBuild {
  private readonly logger = new Logger(InstantiateBuild.name);

  constructor(
    private readonly buildConfigs: BuildConfigRepository,
    private readonly builds: BuildRepository,
    private readonly events: EventBus,
    private readonly runBuild: RunBuild,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
  ) {}

  async execute(namespace: string, name: string, message: string): Promise<Build> {
    const bc = await this.buildConfigs.updateStatus(namespace, name, (status) => ({ ...status, lastVersion: status.lastVersion + 1 }));
    const build = await this.builds.create(this.newBuild(bc, message));
    try {
      await this.events.publish('build.requested', { namespace, name: build.metadata.name, buildConfig: name }, { id: `build.requested:${build.metadata.uid}` });
    } catch (error) {
      // The build is stored: run it here rather than leave it New until the next start-up.
      this.logger.warn({ msg: `could not publish build.requested for ${build.metadata.name} (${(error as Error).message}); running it here` });
      void this.runBuild.execute(namespace, build.metadata.name).catch(() => undefined);
    }
    return build;
  }

  private newBuild(bc: BuildConfig, message: string) {
    const { namespace, name, uid, labels } = bc.metadata;
    const version = bc.status.lastVersion;
    const [imageStream, tag] = bc.spec.output.to.name.split(':');
    return {
      metadata: {
        name: `${name}-${version}`,
        namespace,
        labels: { ...labels, [BUILD_CONFIG_LABEL]: name, [OPENSHIFT_BUILD_CONFIG_LABEL]: name },
        annotations: { 'openshift.io/build-config.name': name, 'openshift.io/build.number': String(version) },
        ownerReferences: [{ apiVersion: 'v1', kind: 'BuildConfig', name, uid, controller: true }],
      },
      spec: { ...bc.spec, triggeredBy: [{ message }] },
      status: {
        phase: 'New' as const,
        stages: [],
        outputDockerImageReference: `${this.settings.registryHost}/${namespace}/${imageStream}:${tag}`,
      },
    };
  }
}
