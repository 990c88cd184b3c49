import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Build } from '@paas/contracts/builds';
import { successStatus, type Status } from '@paas/contracts/status';
import { BINARY_INPUTS, type BinaryInputs } from '@paas/platform/binary-inputs';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { BUILD_NODES, type BuildNodes } from '../nodes/build-nodes';
import { removeBuildContainer } from './build-containers';
import { BuildRepository } from './build.repository';

/**
 * Deletes a build with its log and container (on the node it ran on); the replica running it
 * sees the deletion (its BuildController) and stops the run. A node that cannot be reached
 * keeps the container until the leftover sweep when it is Ready again: the deletion stands. A
 * Binary build's upload goes too.
 */
@Injectable()
export class DeleteBuild {
  private readonly logger = new Logger(DeleteBuild.name);

  constructor(
    private readonly builds: BuildRepository,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    @Inject(BUILD_NODES) private readonly nodes: Pick<BuildNodes, 'list' | 'engine'>,
    @Inject(BINARY_INPUTS) private readonly inputs: Pick<BinaryInputs, 'delete'>,
  ) {}

  async execute(namespace: string, name: string): Promise<Status> {
    const build = await this.builds.delete(namespace, name);
    await removeBuildContainer(this.nodes, build).catch((error: Error) =>
      this.logger.warn({ msg: `the container of build ${namespace}/${name} is left for the leftover sweep: ${error.message}` }),
    );
    await this.logs.remove(namespace, name);
    await this.releaseUpload(build);
    return successStatus(`build "${name}" deleted`, { kind: 'Build', name });
  }

  /** A Binary build's upload, deleted once the build has ended or is gone; one that cannot be deleted now expires with its bucket's TTL. */
  async releaseUpload(build: Build): Promise<void> {
    if (!build.spec.binary) return;
    await this.inputs.delete(build.spec.binary.object).catch((error: Error) =>
      this.logger.warn({ msg: `the upload of build ${build.metadata.namespace}/${build.metadata.name} is left to expire: ${error.message}` }),
    );
  }
}
