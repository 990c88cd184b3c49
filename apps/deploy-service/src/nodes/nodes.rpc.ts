import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { NodesService } from './nodes.service';

/** `nodes.*`: the Node API over NATS (the gateway allows it to cluster-admins). */
@Injectable()
export class NodesRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(NodesService) private readonly nodes: NodesService,
  ) {}

  onModuleInit() {
    this.rpc.handle('nodes.create', ({ body, dryRun }) => this.nodes.create(body, dryRun));
    this.rpc.handle('nodes.get', ({ name }) => this.nodes.get(name));
    this.rpc.handle('nodes.list', () => this.nodes.list());
    this.rpc.handle('nodes.update', ({ name, body }) => this.nodes.update(name, body));
    this.rpc.handle('nodes.delete', ({ name }) => this.nodes.delete(name));
    this.rpc.handle('nodes.drain', ({ name }) => this.nodes.drain(name));
  }
}
