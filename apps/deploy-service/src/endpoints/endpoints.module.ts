import { Module } from '@nestjs/common';
import { registeredController } from '../reconcile/reconcile-queues';
import { EndpointsReconciler } from './endpoints.reconciler';
import { EndpointsRpc } from './endpoints.rpc';

@Module({ providers: [EndpointsReconciler, registeredController(EndpointsReconciler), EndpointsRpc] })
export class EndpointsModule {}
