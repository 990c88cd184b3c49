import { Module } from '@nestjs/common';
import { registeredController } from '../reconcile/reconcile-queues';
import { DeploymentConfigReconciler } from './deploymentconfig.reconciler';
import { DeploymentConfigsRpc } from './deploymentconfigs.rpc';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { ImageChangeTriggerController } from './image-change-trigger';
import { Revisions } from './revisions';

@Module({
  providers: [Revisions, ImageChangeTriggerController, DeploymentConfigsService, DeploymentConfigsRpc, DeploymentConfigReconciler, registeredController(DeploymentConfigReconciler)],
})
export class DeploymentConfigsModule {}
