import type { DeploymentConfigSpec, DeploymentPhase } from '@paas/contracts/deployments';

/** What the DeploymentConfig controller sees of one revision (its ReplicationController). */
export interface RevisionState {
  name: string;
  version: number;
  /** `spec.replicas`: what the RC is asked to run. */
  desired: number;
  /** `status.replicas`: pod records that exist, draining ones included. */
  current: number;
  ready: number;
  phase: DeploymentPhase;
  createdAt: number;
}

export interface RolloutPlan {
  /** New `spec.replicas` per revision, only where it changes. */
  scale: Record<string, number>;
  /** New phase per revision, only where it changes. */
  phases: Record<string, DeploymentPhase>;
  /** The newest revision finished (`rolled`) or ran out of time (`failed`) in this step. */
  outcome?: 'rolled' | 'failed';
  /** Where the newest revision stands after this step. */
  latestPhase?: DeploymentPhase;
}

/**
 * One step of the Rolling strategy, after Kubernetes' deployment controller: the newest
 * revision may grow to `replicas + maxSurge` pods in total; older revisions shrink only by
 * what is ready beyond `replicas - maxUnavailable`, so availability never drops while the
 * new one comes up. A newest revision past its deadline fails and the last complete one is
 * scaled back to serve.
 */
export function planRollout(spec: Pick<DeploymentConfigSpec, 'replicas' | 'strategy' | 'paused'>, latestVersion: number, revisions: RevisionState[], now: number): RolloutPlan {
  const plan: RolloutPlan = { scale: {}, phases: {} };
  const latest = revisions.find((r) => r.version === latestVersion);
  if (!latest || spec.paused) return { ...plan, latestPhase: latest?.phase };
  const older = revisions.filter((r) => r !== latest).sort((a, b) => b.version - a.version);
  const replicas = spec.replicas;
  const setScale = (revision: RevisionState, value: number) => {
    if (revision.desired !== value) plan.scale[revision.name] = value;
    revision.desired = value;
  };
  const setPhase = (revision: RevisionState, phase: DeploymentPhase) => {
    if (revision.phase !== phase) plan.phases[revision.name] = phase;
  };

  const { maxUnavailable, timeoutSeconds } = spec.strategy.rollingParams;
  // Both zero would never make progress; Kubernetes refuses it, here a surge of one is assumed.
  const maxSurge = spec.strategy.rollingParams.maxSurge === 0 && maxUnavailable === 0 ? 1 : spec.strategy.rollingParams.maxSurge;
  const rolling = latest.phase !== 'Complete' && latest.phase !== 'Failed';

  if (latest.phase === 'Failed' || (rolling && now - latest.createdAt > timeoutSeconds * 1000)) {
    const serving = older.find((r) => r.phase === 'Complete');
    setScale(latest, 0);
    for (const revision of older) setScale(revision, revision === serving ? replicas : 0);
    setPhase(latest, 'Failed');
    return { ...plan, latestPhase: 'Failed', ...(latest.phase !== 'Failed' ? { outcome: 'failed' as const } : {}) };
  }

  if (!rolling) {
    // Complete: it alone serves; a scale change goes straight to it.
    setScale(latest, replicas);
    for (const revision of older) setScale(revision, 0);
    return { ...plan, latestPhase: 'Complete' };
  }

  const olderDesired = older.reduce((sum, r) => sum + r.desired, 0);
  setScale(latest, latest.desired > replicas ? replicas : Math.max(latest.desired, Math.min(replicas, replicas + maxSurge - olderDesired)));

  // Older pods that are not ready serve nothing: they go first.
  for (const revision of older) setScale(revision, Math.min(revision.desired, revision.ready));
  const minAvailable = Math.max(0, replicas - maxUnavailable);
  let removable = Math.min(latest.ready, latest.desired) + older.reduce((sum, r) => sum + r.desired, 0) - minAvailable;
  for (const revision of [...older].reverse()) {
    const cut = Math.max(0, Math.min(revision.desired, removable));
    setScale(revision, revision.desired - cut);
    removable -= cut;
  }

  const done = latest.desired === replicas && latest.ready >= replicas && latest.current === replicas && older.every((r) => r.desired === 0 && r.current === 0);
  setPhase(latest, done ? 'Complete' : 'Running');
  return done ? { ...plan, latestPhase: 'Complete', outcome: 'rolled' } : { ...plan, latestPhase: 'Running' };
}
