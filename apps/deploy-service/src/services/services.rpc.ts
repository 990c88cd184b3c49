import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { ServicesService } from './services.service';

@Injectable()
export class ServicesRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(ServicesService) private readonly services: ServicesService,
  ) {}

  onModuleInit() {
    this.rpc.handle('services.create', (req) => this.services.create(req));
    this.rpc.handle('services.get', (req) => this.services.get(req));
    this.rpc.handle('services.list', (req) => this.services.list(req));
    this.rpc.handle('services.update', (req) => this.services.update(req));
    this.rpc.handle('services.delete', (req) => this.services.delete(req));
  }
}
