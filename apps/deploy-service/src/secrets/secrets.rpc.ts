import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { SecretsService } from './secrets.service';

@Injectable()
export class SecretsRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(SecretsService) private readonly secrets: SecretsService,
  ) {}

  onModuleInit() {
    this.rpc.serve('secrets', this.secrets);
  }
}
