import { Module } from '@nestjs/common';
import { PodLogs } from './pod-logs';
import { PodsRpc } from './pods.rpc';
import { READINESS_TRACKER } from './readiness';
import { ReadinessProber } from './readiness-prober';

@Module({
  providers: [ReadinessProber, { provide: READINESS_TRACKER, useExisting: ReadinessProber }, PodLogs, PodsRpc],
  exports: [READINESS_TRACKER],
})
export class PodsModule {}
