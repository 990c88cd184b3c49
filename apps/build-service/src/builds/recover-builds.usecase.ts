import { Inject, Injectable, Logger } from '@nestjs/common';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Build } from '@paas/contracts/builds';
import { EventBus } from '@paas/platform/events';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildRepository, type BuildStore } from './build.repository';
import { RUNNER_ID, runnerIsGone } from './build-runner';
import { CONTAINER_RUNTIME, type ContainerRuntime } from './pipeline/container-runtime';
import type { BuildEvents } from './run-build.usecase';

const IN_FLIGHT: Build['status']['phase'][] = ['Pending', 'Running'];

/**
 * On start-up: a build left Pending or Running by a process that is gone can never finish,
 * so it becomes Error (BuildPodDeleted) and its container goes; build containers whose
 * build is missing or finished go too. Answers the builds still New, to be run.
 */
@Injectable()
export class RecoverBuilds {
  private readonly logger = new Logger(RecoverBuilds.name);

  constructor(
    @Inject(BuildRepository) private readonly builds: BuildStore,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
    @Inject(EventBus) private readonly events: BuildEvents,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
    @Inject(RUNNER_ID) private readonly runnerId: string,
  ) {}

  async execute(): Promise<Build[]> {
    const all = await this.builds.list();
    const live = new Set<string>();
    for (const build of all.filter((b) => IN_FLIGHT.includes(b.status.phase))) {
      const key = `${build.metadata.namespace}.${build.metadata.name}`;
      if (runnerIsGone(build, this.runnerId)) await this.markOrphaned(build);
      else live.add(key);
    }
    for (const container of await this.runtime.listBuildContainers({ 'paas.dev/managed-by': 'build-service' })) {
      if (live.has(container.labels['paas.dev/build'])) continue;
      this.logger.log({ msg: `removing leftover build container ${container.name}` });
      await this.runtime.remove(container.id);
    }
    await this.removeScratchDirs(live);
    return all.filter((b) => b.status.phase === 'New');
  }

  private async markOrphaned(build: Build) {
    const { namespace, name, uid } = build.metadata;
    const message = 'the build-service process running this build stopped before it finished';
    let marked = false;
    await this.builds.updateStatus(namespace, name, (status) => {
      marked = IN_FLIGHT.includes(status.phase);
      return marked ? { ...status, phase: 'Error', reason: 'BuildPodDeleted', message, completionTimestamp: new Date().toISOString() } : status;
    });
    if (!marked) return;
    const log = await this.logs.open(namespace, name);
    await log.write(`error: build error: ${message}\n`);
    await log.close();
    this.logger.warn({ msg: `build ${namespace}/${name} was orphaned by a stopped build-service; marked Error` });
    await this.events.publish('build.failed', { namespace, name, buildConfig: build.metadata.labels?.buildconfig ?? '', reason: 'BuildPodDeleted', message }, { id: `build.failed:${uid}` });
  }

  /** Scratch directories are `<ns>.<name>-<random>`; only those of builds still running elsewhere stay. */
  private async removeScratchDirs(live: Set<string>) {
    const workRoot = path.join(this.settings.buildsDir, 'work');
    const entries = await readdir(workRoot).catch(() => [] as string[]);
    for (const entry of entries.filter((e) => !live.has(e.slice(0, e.lastIndexOf('-'))))) {
      await rm(path.join(workRoot, entry), { recursive: true, force: true });
    }
  }
}
