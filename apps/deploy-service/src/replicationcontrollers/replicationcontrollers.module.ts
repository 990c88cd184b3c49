import { Module } from '@nestjs/common';
import { PodsModule } from '../pods/pods.module';
import { registeredController } from '../reconcile/reconcile-queues';
import { ReplicationControllerReconciler } from './replicationcontroller.reconciler';
import { ReplicationControllersRpc } from './replicationcontrollers.rpc';
import { ROUTER_DRAIN, RouterTrafficDrain } from './router-drain';

@Module({
  imports: [PodsModule],
  providers: [
    ReplicationControllerReconciler,
    registeredController(ReplicationControllerReconciler),
    ReplicationControllersRpc,
    { provide: ROUTER_DRAIN, useClass: RouterTrafficDrain },
  ],
})
export class ReplicationControllersModule {}
