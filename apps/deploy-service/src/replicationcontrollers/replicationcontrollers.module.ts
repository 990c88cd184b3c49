import { Module } from '@nestjs/common';
import { PodsModule } from '../pods/pods.module';
import { registeredController } from '../reconcile/reconcile-queues';
import { ReplicationControllerReconciler } from './replicationcontroller.reconciler';
import { ReplicationControllersRpc } from './replicationcontrollers.rpc';

@Module({ imports: [PodsModule], providers: [ReplicationControllerReconciler, registeredController(ReplicationControllerReconciler), ReplicationControllersRpc] })
export class ReplicationControllersModule {}
