import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { SecretsService } from './secrets.service';

@Injectable()
export class SecretsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(SecretsService) private readonly service: SecretsService,
  ) {}

  onModuleInit() {
    this.rpc.handle('secrets.create', (req) => this.service.create(req));
    this.rpc.handle('secrets.get', (req) => this.service.get(req));
    this.rpc.handle('secrets.list', (req) => this.service.list(req));
    this.rpc.handle('secrets.update', (req) => this.service.update(req));
    this.rpc.handle('secrets.delete', (req) => this.service.delete(req));
  }
}
