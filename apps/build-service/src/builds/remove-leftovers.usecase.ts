import { Inject, Injectable, Logger } from '@nestjs/common';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Build } from '@paas/contracts/builds';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildRepository, type BuildStore } from './build.repository';
import { CONTAINER_RUNTIME, type ContainerRuntime } from './pipeline/container-runtime';

const IN_FLIGHT: Build['status']['phase'][] = ['New', 'Pending', 'Running'];

/**
 * On start-up: build containers (of this platform instance) and scratch directories whose
 * build is gone or finished are removed, whatever stopped before it could. Those of builds
 * still in flight stay: another replica may be running them, and the BuildController decides
 * when a runner is gone.
 */
@Injectable()
export class RemoveBuildLeftovers {
  private readonly logger = new Logger(RemoveBuildLeftovers.name);

  constructor(
    @Inject(BuildRepository) private readonly builds: Pick<BuildStore, 'list'>,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: Pick<ContainerRuntime, 'listBuildContainers' | 'remove'>,
    @Inject(BUILD_SETTINGS) private readonly settings: Pick<BuildSettings, 'buildsDir'>,
  ) {}

  async execute(): Promise<void> {
    const inFlight = new Set((await this.builds.list()).filter((b) => IN_FLIGHT.includes(b.status.phase)).map((b) => `${b.metadata.namespace}.${b.metadata.name}`));
    for (const container of await this.runtime.listBuildContainers({ 'paas.dev/managed-by': 'build-service' })) {
      if (inFlight.has(container.labels['paas.dev/build'])) continue;
      this.logger.log({ msg: `removing leftover build container ${container.name}` });
      await this.runtime.remove(container.id);
    }
    // Scratch directories are `<ns>.<name>-<random>`.
    const workRoot = path.join(this.settings.buildsDir, 'work');
    const entries = await readdir(workRoot).catch(() => [] as string[]);
    for (const entry of entries.filter((e) => !inFlight.has(e.slice(0, e.lastIndexOf('-'))))) {
      await rm(path.join(workRoot, entry), { recursive: true, force: true });
    }
  }
}
