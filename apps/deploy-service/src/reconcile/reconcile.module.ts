import { Global, Module } from '@nestjs/common';
import { DeployInformers } from '../informers';
import { ContainerEventWatcher } from './container-events';
import { ENQUEUER } from './enqueuer';
import { ReconcileQueues } from './reconcile-queues';
import { Resync } from './resync';

/** The informers, the controllers' work queues (each controller registers itself), resync and container events. */
@Global()
@Module({
  providers: [DeployInformers, ReconcileQueues, { provide: ENQUEUER, useExisting: ReconcileQueues }, Resync, ContainerEventWatcher],
  exports: [DeployInformers, ReconcileQueues, ENQUEUER],
})
export class ReconcileModule {}
