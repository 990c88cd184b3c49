import { Module } from '@nestjs/common';
import { ContainerEnvironment } from './container-env';
import { PodLogs } from './pod-logs';
import { PodsRpc } from './pods.rpc';
import { READINESS_TRACKER } from './readiness';
import { PodProber } from './pod-prober';

@Module({
  providers: [PodProber, { provide: READINESS_TRACKER, useExisting: PodProber }, PodLogs, PodsRpc, ContainerEnvironment],
  exports: [READINESS_TRACKER, ContainerEnvironment],
})
export class PodsModule {}
