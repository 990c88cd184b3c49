import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { PodsModule } from '../pods/pods.module';
import { ReconcileQueues } from '../reconcile/reconcile-queues';
import { ReplicationControllerReconciler } from './replicationcontroller.reconciler';
import { ReplicationControllersRpc } from './replicationcontrollers.rpc';

@Module({ imports: [PodsModule], providers: [ReplicationControllerReconciler, ReplicationControllersRpc] })
export class ReplicationControllersModule implements OnModuleInit {
  constructor(
    @Inject(ReconcileQueues) private readonly queues: ReconcileQueues,
    @Inject(ReplicationControllerReconciler) private readonly reconciler: ReplicationControllerReconciler,
  ) {}

  onModuleInit() {
    this.queues.register(this.reconciler);
  }
}
