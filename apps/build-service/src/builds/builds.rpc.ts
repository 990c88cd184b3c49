import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { BUILD_LOGS, type BuildLogStore } from '../adapters/build-log-files';
import { labelSelector, listRequest, logRequest, namedRequest, parseRequest, resourceList } from '../rpc-requests';
import { BuildRepository } from './build.repository';
import { DeleteBuild } from './delete-build.usecase';

/** `builds.get|list|delete|log` over NATS request/reply. */
@Injectable()
export class BuildsRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly builds: BuildRepository,
    private readonly deleteBuild: DeleteBuild,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
  ) {}

  onModuleInit() {
    this.rpc.handle('builds.get', async (request) => {
      const { namespace, name } = parseRequest(namedRequest, request, 'Build');
      return this.builds.get(namespace, name);
    });
    this.rpc.handle('builds.list', async (request) => {
      const { namespace, labelSelector: selector } = parseRequest(listRequest, request, 'BuildList');
      return resourceList('Build', await this.builds.list({ namespace, labels: labelSelector(selector) }));
    });
    this.rpc.handle('builds.delete', async (request) => {
      const { namespace, name } = parseRequest(namedRequest, request, 'Build');
      return this.deleteBuild.execute(namespace, name);
    });
    this.rpc.handle('builds.log', async (request) => {
      const { namespace, name, offset } = parseRequest(logRequest, request, 'BuildLog');
      // The phase is read first: a follower that sees a terminal phase and no text has everything.
      const { status } = await this.builds.get(namespace, name);
      const { text, nextOffset } = await this.logs.read(namespace, name, offset);
      return { log: text, offset, nextOffset, phase: status.phase };
    });
  }
}
