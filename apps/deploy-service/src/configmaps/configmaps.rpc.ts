import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { ConfigMapsService } from './configmaps.service';

@Injectable()
export class ConfigMapsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(ConfigMapsService) private readonly configMaps: ConfigMapsService,
  ) {}

  onModuleInit() {
    this.rpc.serve('configmaps', this.configMaps);
  }
}
