import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { RpcServer } from '@paas/platform/rpc';
import { LimitRangesService, ResourceQuotasService } from './quotas.service';

@Injectable()
export class QuotasRpc implements OnModuleInit {
  constructor(
    @Inject(RpcServer) private readonly rpc: RpcServer,
    @Inject(ResourceQuotasService) private readonly quotas: ResourceQuotasService,
    @Inject(LimitRangesService) private readonly limitRanges: LimitRangesService,
  ) {}

  onModuleInit() {
    this.rpc.serve('resourcequotas', this.quotas);
    this.rpc.serve('limitranges', this.limitRanges);
  }
}
