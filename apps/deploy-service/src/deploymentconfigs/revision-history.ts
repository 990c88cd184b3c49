import type { DeploymentConfigSpec } from '@paas/contracts/deployments';
import type { RevisionState } from './rollout-plan';

/** `spec.revisionHistoryLimit` of a DeploymentConfig stored before the field existed (the schema's default). */
const DEFAULT_REVISION_HISTORY_LIMIT = 10;

export function revisionHistoryLimit(spec: Partial<Pick<DeploymentConfigSpec, 'revisionHistoryLimit'>>): number {
  return spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
}

/**
 * The old revisions to delete, newest first, so that no more than `limit` are kept besides the
 * newest and the last Complete one (what a failed rollout goes back to), which are always kept.
 * The `limit` newest of the others stay; of the older ones, only those asked for no pod that
 * have none left go: one that still runs or stops a pod stays until a later reconcile.
 */
export function revisionsToPrune(limit: number, latestVersion: number, revisions: readonly RevisionState[]): string[] {
  const lastComplete = Math.max(0, ...revisions.filter((r) => r.phase === 'Complete' && r.version <= latestVersion).map((r) => r.version));
  return revisions
    .filter((r) => r.version !== latestVersion && r.version !== lastComplete)
    .sort((a, b) => b.version - a.version)
    .slice(limit)
    .filter((r) => r.desired === 0 && r.current === 0)
    .map((r) => r.name);
}
