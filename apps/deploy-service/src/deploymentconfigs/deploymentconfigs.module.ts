import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { PodsModule } from '../pods/pods.module';
import { QuotasModule } from '../quotas/quotas.module';
import { registeredController } from '../reconcile/reconcile-queues';
import { DeploymentConfigReconciler } from './deploymentconfig.reconciler';
import { DeploymentConfigsRpc } from './deploymentconfigs.rpc';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { DeploymentLogs } from './deployment-logs';
import { ImageChangeTriggerController } from './image-change-trigger';
import { LifecycleHooks } from './lifecycle-hooks';
import { Revisions } from './revisions';
import { ROLLOUTLOGS_COLLECTION, RolloutLogRepository, rolloutLogSchema } from './rollout-log';

@Module({
  imports: [MongooseModule.forFeature([{ name: ROLLOUTLOGS_COLLECTION, schema: rolloutLogSchema }]), QuotasModule, PodsModule],
  providers: [LifecycleHooks, RolloutLogRepository, DeploymentLogs, Revisions, ImageChangeTriggerController, DeploymentConfigsService, DeploymentConfigsRpc, DeploymentConfigReconciler, registeredController(DeploymentConfigReconciler)],
})
export class DeploymentConfigsModule {}
