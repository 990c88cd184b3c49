import { Inject, Injectable } from '@nestjs/common';
import { successStatus, type Status } from '@paas/contracts/status';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { BuildRepository } from './build.repository';
import { CONTAINER_RUNTIME, type ContainerRuntime } from './pipeline/container-runtime';
import { buildContainerName } from './pipeline/s2i-roles';

/**
 * Deletes a build with its log and container; the replica running it sees the deletion (its
 * BuildController) and stops the run.
 */
@Injectable()
export class DeleteBuild {
  constructor(
    private readonly builds: BuildRepository,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
  ) {}

  async execute(namespace: string, name: string): Promise<Status> {
    const build = await this.builds.delete(namespace, name);
    await this.runtime.remove(buildContainerName(build));
    await this.logs.remove(namespace, name);
    return successStatus(`build "${name}" deleted`, { kind: 'Build', name });
  }
}
