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
    this.rpc.serve('services', this.services);
  }
}
