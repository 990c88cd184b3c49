import { Inject, Injectable } from '@nestjs/common';
import { successStatus, type Status } from '@paas/contracts/status';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { BuildRepository } from './build.repository';
import { CONTAINER_RUNTIME, type ContainerRuntime } from './pipeline/container-runtime';
import { buildContainerName } from './pipeline/s2i-roles';
import { RunBuild } from './run-build.usecase';

/** Deletes a build with its log; one running in this process is stopped and its container removed. */
@Injectable()
export class DeleteBuild {
  constructor(
    private readonly builds: BuildRepository,
    private readonly runBuild: RunBuild,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
  ) {}

  async execute(namespace: string, name: string): Promise<Status> {
    const build = await this.builds.delete(namespace, name);
    this.runBuild.abort(namespace, name);
    await this.runtime.remove(buildContainerName(build));
    await this.logs.remove(namespace, name);
    return successStatus(`build "${name}" deleted`, { kind: 'Build', name });
  }
}
