import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { listsFromCache } from '@paas/platform/informer';
import { listResponse } from '@paas/platform/rpc-input';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { handleParsed, listRequest, logRequest, namedRequest } from '../rpc-requests';
import { BuildRepository } from './build.repository';
import { BuildController } from './build-controller';
import { CancelBuild } from './cancel-build.usecase';
import { DeleteBuild } from './delete-build.usecase';

/** `builds.get|list|delete|log|cancel` over NATS request/reply. */
@Injectable()
export class BuildsRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly builds: BuildRepository,
    private readonly deleteBuild: DeleteBuild,
    private readonly cancelBuild: CancelBuild,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    private readonly controller: BuildController,
  ) {}

  onModuleInit() {
    const kind = 'Build';
    handleParsed(this.rpc, 'builds.get', namedRequest, kind, (r) => this.builds.get(r.namespace, r.name));
    handleParsed(this.rpc, 'builds.list', listRequest, kind, (r) => listResponse(kind, listsFromCache(this.controller.builds, this.builds), r));
    handleParsed(this.rpc, 'builds.delete', namedRequest, kind, (r) => this.deleteBuild.execute(r.namespace, r.name));
    handleParsed(this.rpc, 'builds.cancel', namedRequest, kind, (r) => this.cancelBuild.execute(r.namespace, r.name));
    handleParsed(this.rpc, 'builds.log', logRequest, 'BuildLog', async ({ namespace, name, offset }) => {
      // The phase is read first: a follower that sees a terminal phase and no text has everything.
      // Followers ask a few times a second, so it comes from the cache while that is current (the
      // cache trails the database: a phase terminal there was terminal in the database first).
      const builds = this.controller.builds;
      const { status } = (builds.current && builds.get(namespace, name)) || (await this.builds.get(namespace, name));
      const { text, nextOffset } = await this.logs.read(namespace, name, offset);
      return { log: text, offset, nextOffset, phase: status.phase };
    });
  }
}
