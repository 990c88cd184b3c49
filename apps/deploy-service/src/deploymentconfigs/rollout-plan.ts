import { lifecycleHooksOf, type DeploymentConfigSpec, type DeploymentPhase, type HookType, type IntOrPercent } from '@paas/contracts/deployments';

/** `recreateParams.timeoutSeconds` when `recreateParams` is left out (the schema's default when it is given). */
const RECREATE_TIMEOUT_SECONDS = 600;

/** What the DeploymentConfig controller sees of one revision (its ReplicationController). */
export interface RevisionState {
  name: string;
  version: number;
  /** `spec.replicas`: what the RC is asked to run. */
  desired: number;
  /** `status.replicas`: pod records that exist, draining ones included. */
  current: number;
  /** Pods available: Ready, and for at least the DC's `minReadySeconds`. */
  ready: number;
  /** When the next of its pods that are Ready, but not for `minReadySeconds` yet, becomes available. */
  availableAt?: number;
  phase: DeploymentPhase;
  createdAt: number;
  /** When it last made progress: created, asked for more pods, or one of its pods became ready. */
  progressAt: number;
  /** When its replicas were last changed by the controller, up or down. */
  scaledAt?: number;
  /** Why one of its pods crash-loops, when one does. */
  crashLoop?: string;
  /** A user cancelled its rollout (`oc rollout cancel`). */
  cancelled?: boolean;
  /** How its lifecycle hooks ended, those that have (an `Ignore`d failure counts as Complete). */
  hooks?: Partial<Record<HookType, HookOutcome>>;
}

export interface HookOutcome {
  phase: 'Complete' | 'Failed';
  message: string;
}

/** Why the newest revision stopped rolling out. */
export interface RolloutFailure {
  reason: 'CrashLoopBackOff' | 'ProgressDeadlineExceeded' | 'RolloutCancelled' | 'HookFailed';
  message: string;
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
  /** Why the newest revision failed in this step. */
  failure?: RolloutFailure;
  /** The step waits for `updatePeriodSeconds` to pass since the last one: look again then. */
  holdUntil?: number;
  /** The rollout waits for this lifecycle hook of the newest revision: run it, or see how it does. */
  hook?: HookType;
}

/**
 * One step of a rollout. `Rolling`, after Kubernetes' deployment controller: the newest
 * revision may grow to `replicas + maxSurge` pods in total; older revisions shrink only by
 * what is ready beyond `replicas - maxUnavailable`, so availability never drops while the
 * new one comes up. `Recreate`: older revisions go to 0 first, and the newest is scaled to
 * `replicas` only once none of their pods exists any more (a gap in service, but never two
 * versions at once). Either is health-gated: a newest revision whose pod crash-loops, or
 * that makes no progress for `progressDeadlineSeconds` (or is not done within the strategy's
 * `timeoutSeconds`), fails, and the last complete one is scaled back to serve. A Rolling
 * step waits until `updatePeriodSeconds` have passed since the previous one (`holdUntil`).
 * Lifecycle hooks hold the rollout where OpenShift runs them (`hook`): `pre` before anything
 * is scaled, Recreate's `mid` once the old pods are gone, `post` once the new ones are all
 * ready (the revision is Complete after it); one that failed with `Abort` fails the revision.
 * While a hook runs, the progress deadline waits; the strategy's timeout does not.
 */
export function planRollout(spec: Pick<DeploymentConfigSpec, 'replicas' | 'strategy' | 'paused' | 'progressDeadlineSeconds'>, latestVersion: number, revisions: RevisionState[], now: number): RolloutPlan {
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

  const rolling = !rolloutEnded(latest.phase);
  const hooks = lifecycleHooksOf(spec.strategy);
  const hookPending = (type: HookType) => hooks[type] !== undefined && latest.hooks?.[type]?.phase !== 'Complete';
  const oldGone = older.every((r) => r.current === 0);
  const done = () => latest.desired === replicas && latest.ready >= replicas && latest.current === replicas && older.every((r) => r.desired === 0 && r.current === 0);
  const hookRunning = hookPending('pre') || (spec.strategy.type === 'Recreate' && oldGone && hookPending('mid')) || (done() && hookPending('post'));

  const failure = rolling ? failureOf(spec, latest, now, hookRunning) : undefined;
  if (latest.phase === 'Failed' || failure) {
    // Auto-rollback: the last complete revision gets every replica back. With none to go back
    // to, the failed one keeps its pods (restarting with back-off) rather than serving nothing.
    const serving = older.find((r) => r.phase === 'Complete');
    if (serving) setScale(latest, 0);
    for (const revision of older) setScale(revision, revision === serving ? replicas : 0);
    setPhase(latest, 'Failed');
    if (!failure) return { ...plan, latestPhase: 'Failed' };
    const after = serving ? `revision ${serving.version} serves again` : 'no earlier revision completed, so there is none to roll back to';
    return { ...plan, latestPhase: 'Failed', outcome: 'failed', failure: { ...failure, message: `${failure.message}; ${after}` } };
  }

  if (!rolling) {
    // Complete: it alone serves; a scale change goes straight to it.
    setScale(latest, replicas);
    for (const revision of older) setScale(revision, 0);
    return { ...plan, latestPhase: 'Complete' };
  }

  if (hookPending('pre')) {
    setPhase(latest, 'Running');
    return { ...plan, latestPhase: 'Running', hook: 'pre' };
  }
  if (spec.strategy.type === 'Recreate') {
    for (const revision of older) setScale(revision, 0);
    const midPending = oldGone && hookPending('mid');
    setScale(latest, oldGone && !midPending ? replicas : Math.min(latest.desired, replicas));
    if (midPending) {
      setPhase(latest, 'Running');
      return { ...plan, latestPhase: 'Running', hook: 'mid' };
    }
  } else {
    rollingStep(spec, latest, older, setScale);
    const holdUntil = nextStepAt(spec.strategy, revisions);
    if (Object.keys(plan.scale).length && holdUntil > now) {
      setPhase(latest, 'Running');
      return { scale: {}, phases: plan.phases, latestPhase: 'Running', holdUntil };
    }
  }

  if (done() && hookPending('post')) {
    setPhase(latest, 'Running');
    return { ...plan, latestPhase: 'Running', hook: 'post' };
  }
  setPhase(latest, done() ? 'Complete' : 'Running');
  return done() ? { ...plan, latestPhase: 'Complete', outcome: 'rolled' } : { ...plan, latestPhase: 'Running' };
}

/** Whether a revision's rollout is over, one way or the other (Complete or Failed). */
export function rolloutEnded(phase: DeploymentPhase): boolean {
  return phase === 'Complete' || phase === 'Failed';
}

/** Rolling: the newest revision surges, then older ones give up what the newest has ready. */
function rollingStep(
  spec: Pick<DeploymentConfigSpec, 'replicas' | 'strategy'>,
  latest: RevisionState,
  older: RevisionState[],
  setScale: (revision: RevisionState, value: number) => void,
) {
  const { replicas } = spec;
  const olderDesired = older.reduce((sum, r) => sum + r.desired, 0);
  setScale(latest, latest.desired > replicas ? replicas : Math.max(latest.desired, Math.min(replicas, replicas + rollingBounds(spec).maxSurge - olderDesired)));

  // Older pods that are not ready serve nothing: they go first.
  for (const revision of older) setScale(revision, Math.min(revision.desired, revision.ready));
  let removable = Math.min(latest.ready, latest.desired) + older.reduce((sum, r) => sum + r.desired, 0) - minAvailable(spec);
  for (const revision of [...older].reverse()) {
    const cut = Math.max(0, Math.min(revision.desired, removable));
    setScale(revision, revision.desired - cut);
    removable -= cut;
  }
}

/** When the next Rolling step may be taken: `updatePeriodSeconds` after the last revision scaled (0: at once). */
function nextStepAt(strategy: DeploymentConfigSpec['strategy'], revisions: RevisionState[]): number {
  const periodMs = (strategy.rollingParams.updatePeriodSeconds ?? 0) * 1000;
  if (!periodMs) return 0;
  return Math.max(0, ...revisions.map((r) => r.scaledAt ?? 0)) + periodMs;
}

/**
 * `rollingParams.maxSurge` and `maxUnavailable` in pods, as Kubernetes resolves them: a
 * percentage is of `replicas`, rounded up for the surge and down for the unavailable. Both 0
 * would never make progress; Kubernetes refuses it, here a surge of one is assumed.
 */
export function rollingBounds(spec: Pick<DeploymentConfigSpec, 'replicas' | 'strategy'>): { maxSurge: number; maxUnavailable: number } {
  const { rollingParams } = spec.strategy;
  const maxSurge = podsOf(rollingParams.maxSurge, spec.replicas, Math.ceil);
  const maxUnavailable = podsOf(rollingParams.maxUnavailable, spec.replicas, Math.floor);
  return { maxSurge: maxSurge === 0 && maxUnavailable === 0 ? 1 : maxSurge, maxUnavailable };
}

function podsOf(value: IntOrPercent, replicas: number, round: (pods: number) => number): number {
  return typeof value === 'number' ? value : round((Number.parseInt(value, 10) * replicas) / 100);
}

/**
 * The ready pods the DC needs to be `Available`: `replicas - maxUnavailable`, which Rolling also
 * keeps while the old revisions shrink; all of `replicas` under Recreate, which keeps no old pod.
 */
export function minAvailable(spec: Pick<DeploymentConfigSpec, 'replicas' | 'strategy'>): number {
  if (spec.strategy.type === 'Recreate') return spec.replicas;
  return Math.max(0, spec.replicas - rollingBounds(spec).maxUnavailable);
}

/** Why a rolling revision must stop: a user's cancel, an aborting hook's failure or a crash loop at once, else a deadline passed. */
function failureOf(spec: Pick<DeploymentConfigSpec, 'strategy' | 'progressDeadlineSeconds'>, latest: RevisionState, now: number, hookRunning: boolean): RolloutFailure | undefined {
  const revision = `revision ${latest.version}`;
  if (latest.cancelled) return { reason: 'RolloutCancelled', message: `the rollout of ${revision} was cancelled` };
  for (const type of ['pre', 'mid', 'post'] as const) {
    const hook = latest.hooks?.[type];
    if (hook?.phase === 'Failed') return { reason: 'HookFailed', message: `the ${type} hook of ${revision} failed: ${hook.message}` };
  }
  if (latest.crashLoop) return { reason: 'CrashLoopBackOff', message: `a pod of ${revision} crash-loops: ${latest.crashLoop}` };
  // Counted once the revision was asked for a pod: a reconcile that came late (a busy control plane) is not the app's lack of progress.
  const asked = latest.desired > 0 || latest.current > 0;
  if (!hookRunning && asked && now - latest.progressAt > spec.progressDeadlineSeconds * 1000) {
    return { reason: 'ProgressDeadlineExceeded', message: `${revision} made no progress for ${spec.progressDeadlineSeconds} s (progressDeadlineSeconds): no pod of it became ready` };
  }
  const { seconds, field } = rolloutTimeout(spec.strategy);
  if (now - latest.createdAt > seconds * 1000) return { reason: 'ProgressDeadlineExceeded', message: `${revision} did not complete within ${seconds} s (${field})` };
  return undefined;
}

/** How long the whole rollout may take, and the field that says so. */
function rolloutTimeout(strategy: DeploymentConfigSpec['strategy']): { seconds: number; field: string } {
  if (strategy.type === 'Recreate') return { seconds: strategy.recreateParams?.timeoutSeconds ?? RECREATE_TIMEOUT_SECONDS, field: 'recreateParams.timeoutSeconds' };
  return { seconds: strategy.rollingParams.timeoutSeconds, field: 'rollingParams.timeoutSeconds' };
}

/** When the newest revision's deadlines pass, if nothing happens before: the reconciler looks again then. */
export function nextDeadline(spec: Pick<DeploymentConfigSpec, 'strategy' | 'progressDeadlineSeconds'>, latest: RevisionState): number {
  return Math.min(latest.progressAt + spec.progressDeadlineSeconds * 1000, latest.createdAt + rolloutTimeout(spec.strategy).seconds * 1000);
}
