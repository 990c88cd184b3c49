import type { ReconcileResult } from '@paas/platform/work-queue';

export type ControllerKind = 'deploymentconfigs' | 'replicationcontrollers' | 'endpoints';

/** A level-triggered controller: `reconcile(<namespace>/<name>)` makes observed match desired. */
export interface Controller {
  readonly kind: ControllerKind;
  reconcile(key: string): Promise<ReconcileResult>;
}
