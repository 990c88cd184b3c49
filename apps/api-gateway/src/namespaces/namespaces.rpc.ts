import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { NamespacesService } from './namespaces.service';

/** `namespaces.get`: a namespace as the gateway keeps it, for the services that read its annotations (the registry's quota). */
@Injectable()
export class NamespacesRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly namespaces: NamespacesService,
  ) {}

  onModuleInit() {
    this.rpc.handle('namespaces.get', (request) => this.namespaces.get(request.name));
  }
}
