import { Global, Module } from '@nestjs/common';
import { ContainerEventWatcher } from './container-events';
import { ENQUEUER } from './enqueuer';
import { ReconcileQueues } from './reconcile-queues';
import { Resync } from './resync';

/** The controllers' work queues (each controller registers itself), resync and container events. */
@Global()
@Module({
  providers: [ReconcileQueues, { provide: ENQUEUER, useExisting: ReconcileQueues }, Resync, ContainerEventWatcher],
  exports: [ReconcileQueues, ENQUEUER],
})
export class ReconcileModule {}
