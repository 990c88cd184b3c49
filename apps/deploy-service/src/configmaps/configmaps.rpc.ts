import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { ConfigMapsService } from './configmaps.service';

@Injectable()
export class ConfigMapsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(ConfigMapsService) private readonly service: ConfigMapsService,
  ) {}

  onModuleInit() {
    this.rpc.handle('configmaps.create', (req) => this.service.create(req));
    this.rpc.handle('configmaps.get', (req) => this.service.get(req));
    this.rpc.handle('configmaps.list', (req) => this.service.list(req));
    this.rpc.handle('configmaps.update', (req) => this.service.update(req));
    this.rpc.handle('configmaps.delete', (req) => this.service.delete(req));
  }
}
