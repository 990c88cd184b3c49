import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { ReconcileQueues } from '../reconcile/reconcile-queues';
import { DeploymentConfigReconciler } from './deploymentconfig.reconciler';
import { DeploymentConfigsRpc } from './deploymentconfigs.rpc';
import { DeploymentConfigsService } from './deploymentconfigs.service';
import { ImageChangeTriggerController } from './image-change-trigger';
import { Revisions } from './revisions';

@Module({ providers: [Revisions, ImageChangeTriggerController, DeploymentConfigsService, DeploymentConfigsRpc, DeploymentConfigReconciler] })
export class DeploymentConfigsModule implements OnModuleInit {
  constructor(
    @Inject(ReconcileQueues) private readonly queues: ReconcileQueues,
    @Inject(DeploymentConfigReconciler) private readonly reconciler: DeploymentConfigReconciler,
  ) {}

  onModuleInit() {
    this.queues.register(this.reconciler);
  }
}
