import { Injectable } from '@nestjs/common';
import { successStatus, type Status } from '@paas/contracts/status';
import { BuildRepository } from '../builds/build.repository';
import { DeleteBuild } from '../builds/delete-build.usecase';
import { BuildConfigRepository } from './buildconfig.repository';
import { BUILD_CONFIG_LABEL } from './instantiate-build.usecase';

/** Deletes the BuildConfig and, like `oc delete bc`, the builds it started (their logs too). */
@Injectable()
export class DeleteBuildConfig {
  constructor(
    private readonly buildConfigs: BuildConfigRepository,
    private readonly builds: BuildRepository,
    private readonly deleteBuild: DeleteBuild,
  ) {}

  async execute(namespace: string, name: string): Promise<Status> {
    await this.buildConfigs.delete(namespace, name);
    for (const build of await this.builds.list({ namespace, labels: { [BUILD_CONFIG_LABEL]: name } })) {
      await this.deleteBuild.execute(namespace, build.metadata.name).catch(() => undefined);
    }
    return successStatus(`buildconfig "${name}" deleted`, { kind: 'BuildConfig', name });
  }
}
