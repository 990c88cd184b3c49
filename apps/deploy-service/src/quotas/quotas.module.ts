import { Module } from '@nestjs/common';
import { QuotaAdmission } from './quota-admission';
import { QuotasRpc } from './quotas.rpc';
import { LimitRangesService, ResourceQuotasService } from './quotas.service';

@Module({ providers: [QuotaAdmission, ResourceQuotasService, LimitRangesService, QuotasRpc], exports: [QuotaAdmission] })
export class QuotasModule {}
