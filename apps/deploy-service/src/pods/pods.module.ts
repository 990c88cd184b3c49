import { Module } from '@nestjs/common';
import { PodLogs } from './pod-logs';
import { PodsRpc } from './pods.rpc';
import { READINESS_TRACKER } from './readiness';
import { PodProber } from './pod-prober';

@Module({
  providers: [PodProber, { provide: READINESS_TRACKER, useExisting: PodProber }, PodLogs, PodsRpc],
  exports: [READINESS_TRACKER],
})
export class PodsModule {}
