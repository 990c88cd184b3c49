import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { ReconcileQueues } from '../reconcile/reconcile-queues';
import { EndpointsReconciler } from './endpoints.reconciler';
import { EndpointsRpc } from './endpoints.rpc';

@Module({ providers: [EndpointsReconciler, EndpointsRpc] })
export class EndpointsModule implements OnModuleInit {
  constructor(
    @Inject(ReconcileQueues) private readonly queues: ReconcileQueues,
    @Inject(EndpointsReconciler) private readonly reconciler: EndpointsReconciler,
  ) {}

  onModuleInit() {
    this.queues.register(this.reconciler);
  }
}
