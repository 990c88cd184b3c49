import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CRASH_LOOP_BACK_OFF,
  DEPLOYMENT_ANNOTATIONS,
  DEPLOYMENT_LABELS,
  type DeploymentConfig,
  type DeploymentConfigStatus,
  type DeploymentPhase,
  type HookType,
  lifecycleHooksOf,
  type Pod,
  type ReplicationController,
} from '@paas/contracts/deployments';
import { isOwnedBy, type Condition } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import type { ReconcileResult } from '@paas/platform/work-queue';
import type { Controller } from '../reconcile/controller';
import { isDeepStrictEqual } from 'node:util';
import { setCondition } from '../conditions';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { isReady } from '../pods/pod-state';
import { ReplicationControllerRepository } from '../replicationcontrollers/replicationcontroller.repository';
import { splitKey, type Store } from '../store';
import { DeploymentConfigRepository } from './deploymentconfig.repository';
import { ImageChangeTriggerController } from './image-change-trigger';
import { hookAnnotation, hookOutcomes, LifecycleHooks } from './lifecycle-hooks';
import { revisionHistoryLimit, revisionsToPrune } from './revision-history';
import { revisionName, revisionPhase, revisionVersion, startingRevision } from './revisions';
import { RolloutLogRepository, rolloutLogLines, type RolloutLogWriter, type ScaledRevision, type StartingRevision } from './rollout-log';
import { minAvailable, nextDeadline, planRollout, rolloutEnded, type HookOutcome, type RevisionState, type RolloutFailure } from './rollout-plan';

/** While a hook's container runs, look again this soon (its stop also wakes the DC through the container's events). */
const HOOK_RECHECK_MS = 2_000;

/**
 * Drives a DeploymentConfig's revisions, reading the informers' caches: checks its ImageChange
 * triggers against the registry (a moved tag starts a revision, whether or not its event
 * arrived), makes sure the newest one has its RC, scales RCs one step of the strategy at a
 * time (`planRollout`, Rolling or Recreate, health-gated by its pods: a crash loop or a stall
 * fails the revision and the last complete one serves again), deletes the old RCs beyond
 * `revisionHistoryLimit` that have no pod left (`revisionsToPrune`), and writes the DC's
 * status last, only when it changed. A revision's phase moves announce it through the outbox
 * of that write: `deployment.triggered` (Pending), `deployment.rolled` (Complete),
 * `deployment.failed` (Failed); a change of its replicas, `deployment.scaled`. Each step of
 * a rollout is told in the revision's rollout log (`oc logs dc/<name>`), written after the
 * step: a reconcile that dies between the two loses a line, never repeats one.
 */
@Injectable()
export class DeploymentConfigReconciler implements Controller {
  private readonly logger = new Logger(DeploymentConfigReconciler.name);

  constructor(
    @Inject(DeploymentConfigRepository) private readonly dcs: Store<DeploymentConfig>,
    @Inject(ReplicationControllerRepository) private readonly rcs: Store<ReplicationController>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'dcs' | 'rcs' | 'pods'>,
    @Inject(ImageChangeTriggerController) private readonly imageTriggers: Pick<ImageChangeTriggerController, 'resolve' | 'forget'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
    @Inject(RolloutLogRepository) private readonly rolloutLogs: RolloutLogWriter,
    @Inject(LifecycleHooks) private readonly hooks: Pick<LifecycleHooks, 'advance' | 'removeAll'>,
  ) {}

  readonly kind = 'deploymentconfigs' as const;

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.cache.dcs.get(namespace, name);
    const labelled = this.cache.rcs.list({ namespace, labels: { [DEPLOYMENT_LABELS.deploymentConfig]: name } });
    const owned = labelled.filter((rc) => isOwnedBy(rc, cached));
    // RCs of a deleted DC (or an older DC of that name) go; their RC reconcile removes the pods.
    for (const rc of labelled.filter((rc) => !owned.includes(rc))) {
      await this.rcs.delete(namespace, rc.metadata.name).catch(() => undefined);
      await this.rolloutLogs.remove(rc.metadata.uid);
      await this.hooks.removeAll(namespace, rc.metadata.name);
    }
    if (!cached) {
      this.imageTriggers.forget(namespace, name);
      await this.rolloutLogs.removeAllOf(namespace, name);
      return {};
    }
    // Level-triggered ImageChange: a lost or failed imagestream.updated is caught up here; a
    // moved tag makes a new revision, started below.
    const { dc, ...triggers } = await this.imageTriggers.resolve(cached);

    const version = dc.status.latestVersion;
    const minReadyMs = (dc.spec.minReadySeconds ?? 0) * 1000;
    let latest = owned.find((rc) => rc.metadata.name === revisionName(name, version));
    // The replicas every revision had when the newest one started: its log's first line.
    let started: StartingRevision[] | undefined;
    const scaled: ScaledRevision[] = [];
    if (version > 0 && !latest) {
      started = owned.map((rc) => ({ name: rc.metadata.name, replicas: rc.spec.replicas }));
      latest = await this.startRevision(dc, owned, minReadyMs);
      // Made meanwhile by another writer (the API's ensureLatest): the next reconcile sees it.
      if (!latest) return { requeueAfterMs: 0 };
      owned.push(latest);
      if (latest.spec.replicas) scaled.push({ name: latest.metadata.name, from: 0, to: latest.spec.replicas });
    } else if (latest && revisionPhase(latest) === 'New') {
      // Made by the API (a ConfigChange, `oc rollout latest`, a rollback) at 0 pods: its rollout starts here.
      started = owned.map((rc) => ({ name: rc.metadata.name, replicas: rc.spec.replicas }));
      latest = await this.setRevision(dc, latest, { phase: 'Pending' });
    }
    const rolling = latest !== undefined && !rolloutEnded(revisionPhase(latest));

    const states = owned.map((rc) => this.stateOf(latest && rc.metadata.name === latest.metadata.name ? latest : rc, minReadyMs));
    // Chosen from what is observed, before this step scales anything: a revision goes only once
    // it was seen asked for no pod and with none left.
    const prunable = revisionsToPrune(revisionHistoryLimit(dc.spec), version, states);
    const plan = planRollout(dc.spec, version, states, this.settings.now());
    for (const rc of owned) {
      const replicas = plan.scale[rc.metadata.name];
      const phase = plan.phases[rc.metadata.name];
      const failure = rc === latest ? plan.failure : undefined;
      if (replicas !== undefined || phase !== undefined) await this.setRevision(dc, rc, { replicas, phase, failure });
      if (replicas !== undefined) scaled.push({ name: rc.metadata.name, from: rc.spec.replicas, to: replicas });
    }
    let hookLines: string[] = [];
    let hookEnded = false;
    if (latest && plan.hook) {
      const hook = lifecycleHooksOf(dc.spec.strategy)[plan.hook];
      if (hook) {
        const step = await this.hooks.advance(dc, latest, plan.hook, hook);
        hookLines = step.log;
        if (step.outcome) {
          latest = await this.recordHook(latest, plan.hook, step.outcome);
          hookEnded = true;
        }
      }
    }
    if (latest && rolling) {
      await this.writeLog(dc, latest, [...rolloutLogLines(dc.spec, { latest: latest.metadata.name, started, scaled, rolled: plan.outcome === 'rolled', failure: plan.failure }), ...hookLines]);
    }
    for (const rcName of prunable) {
      await this.rcs.delete(namespace, rcName).catch((error) => {
        if (!(error instanceof ApiError && error.status.reason === 'NotFound')) throw error;
      });
      const pruned = owned.find((rc) => rc.metadata.name === rcName);
      if (pruned) await this.rolloutLogs.remove(pruned.metadata.uid);
      await this.hooks.removeAll(namespace, rcName);
    }

    await this.writeStatus(dc, states, plan.latestPhase, plan.failure ?? failureOf(latest));
    const waits = triggers.retryAfterMs === undefined ? [] : [triggers.retryAfterMs];
    // A hook that ended lets the rollout go on at once; one that runs is looked at again.
    if (plan.hook) waits.push(hookEnded ? 0 : HOOK_RECHECK_MS);
    if (plan.holdUntil !== undefined) waits.push(Math.max(0, plan.holdUntil - this.settings.now() + 1));
    // No event says a pod has now been ready long enough: look again when one has.
    for (const { availableAt } of states) if (availableAt !== undefined) waits.push(Math.max(0, availableAt - this.settings.now() + 1));
    const newest = states.find((state) => state.version === version);
    if (plan.latestPhase === 'Running' && newest) {
      waits.push(Math.max(0, Math.min(this.settings.resyncMs, nextDeadline(dc.spec, newest) - this.settings.now() + 1)));
    }
    return waits.length ? { requeueAfterMs: Math.min(...waits) } : {};
  }

  /**
   * Makes the RC of the DC's newest revision as its rollout starts (`deployment.triggered` goes
   * out through the create's outbox), in the phase and at the replicas the strategy's first
   * step gives it (none while a hook must run first): its pods start as soon as it exists,
   * not after a write that marks it Pending and another that scales it. Undefined when its
   * name was taken meanwhile.
   */
  private async startRevision(dc: DeploymentConfig, owned: ReplicationController[], minReadyMs: number): Promise<ReplicationController | undefined> {
    const now = this.settings.now();
    const version = dc.status.latestVersion;
    const name = revisionName(dc.metadata.name, version);
    const fresh: RevisionState = { name, version, desired: 0, current: 0, ready: 0, phase: 'Pending', createdAt: now, progressAt: now };
    const first = planRollout(dc.spec, version, [...owned.map((rc) => this.stateOf(rc, minReadyMs)), fresh], now);
    // Only a step that goes on rolling is taken here; an end (a revision of 0 replicas) is reached by the plan below, which tells it.
    const phase = first.phases[name] === 'Running' ? 'Running' : 'Pending';
    const replicas = first.hook ? 0 : (first.scale[name] ?? 0);
    try {
      return await this.rcs.create(startingRevision(dc, { phase, replicas, at: new Date(now).toISOString() }), {
        outbox: (rc) => [...phaseEvents(dc, rc, 'Pending'), ...scaledEvents(dc, { ...rc, spec: { ...rc.spec, replicas: 0 } }, rc)],
      });
    } catch (error) {
      if (error instanceof ApiError && error.status.reason === 'AlreadyExists') return undefined;
      throw error;
    }
  }

  /** A revision as the caches show it, with what its pods say of its health; a pod is available once Ready for `minReadyMs`. */
  private stateOf(rc: ReplicationController, minReadyMs: number): RevisionState {
    const pods = this.cache.pods.list({ namespace: rc.metadata.namespace, labels: { [DEPLOYMENT_LABELS.deployment]: rc.metadata.name } });
    const createdAt = Date.parse(rc.metadata.creationTimestamp) || 0;
    const crashing = pods.find((pod) => pod.status.reason === CRASH_LOOP_BACK_OFF);
    const availableSince = this.settings.now() - minReadyMs;
    const readyAt = minReadyMs ? pods.filter(isReady).map(readySince) : [];
    const notYet = readyAt.filter((at) => at > availableSince);
    return {
      name: rc.metadata.name,
      version: revisionVersion(rc),
      desired: rc.spec.replicas,
      current: rc.status.replicas,
      ready: minReadyMs ? readyAt.length - notYet.length : rc.status.readyReplicas,
      ...(notYet.length ? { availableAt: Math.min(...notYet) + minReadyMs } : {}),
      phase: revisionPhase(rc),
      createdAt,
      progressAt: Math.max(createdAt, Date.parse(rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.scaledUpAt] ?? '') || 0, ...pods.map(readySince)),
      ...(rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.scaledAt] ? { scaledAt: Date.parse(rc.metadata.annotations[DEPLOYMENT_ANNOTATIONS.scaledAt]) || 0 } : {}),
      ...(rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.cancelled] === 'true' ? { cancelled: true } : {}),
      ...(crashing ? { crashLoop: `${crashing.metadata.name}: ${crashing.status.message ?? 'its container keeps stopping'}` } : {}),
      hooks: hookOutcomes(rc),
    };
  }

  /** Keeps how a revision's hook ended on the revision (an annotation), where the next step's plan reads it. */
  private recordHook(rc: ReplicationController, type: HookType, outcome: HookOutcome): Promise<ReplicationController> {
    return this.rcs.update(rc.metadata.namespace, rc.metadata.name, (current) => ({
      ...current,
      metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [hookAnnotation(type)]: JSON.stringify(outcome) } },
    }));
  }

  /** Scales a revision or moves its phase; a phase that announces something owes its event through the write's outbox. */
  private async setRevision(
    dc: DeploymentConfig,
    rc: ReplicationController,
    change: { replicas?: number; phase?: DeploymentPhase; failure?: RolloutFailure },
  ): Promise<ReplicationController> {
    const why: Record<string, string> = change.failure ? { [DEPLOYMENT_ANNOTATIONS.statusReason]: change.failure.reason, [DEPLOYMENT_ANNOTATIONS.statusMessage]: change.failure.message } : {};
    return this.rcs.update(
      rc.metadata.namespace,
      rc.metadata.name,
      (current) => {
        const at = new Date(this.settings.now()).toISOString();
        const scaled: Record<string, string> =
          change.replicas === undefined || change.replicas === current.spec.replicas
            ? {}
            : { [DEPLOYMENT_ANNOTATIONS.scaledAt]: at, ...(change.replicas > current.spec.replicas ? { [DEPLOYMENT_ANNOTATIONS.scaledUpAt]: at } : {}) };
        const added = { ...(change.phase ? { [DEPLOYMENT_ANNOTATIONS.phase]: change.phase, ...why } : {}), ...scaled };
        return {
          ...current,
          metadata: Object.keys(added).length ? { ...current.metadata, annotations: { ...current.metadata.annotations, ...added } } : current.metadata,
          spec: change.replicas !== undefined ? { ...current.spec, replicas: change.replicas } : current.spec,
        };
      },
      { outbox: (next) => [...(change.phase && change.phase !== revisionPhase(rc) ? phaseEvents(dc, next, change.phase) : []), ...(change.replicas !== undefined ? scaledEvents(dc, rc, next) : [])] },
    );
  }

  /** Appends a rollout step to the revision's log; a log that cannot be written is not worth failing the rollout for. */
  private async writeLog(dc: DeploymentConfig, rc: ReplicationController, lines: string[]): Promise<void> {
    if (!lines.length) return;
    const { uid, namespace } = rc.metadata;
    await this.rolloutLogs.append({ uid, namespace, deploymentConfig: dc.metadata.name }, lines, new Date(this.settings.now()).toISOString()).catch((error: Error) => {
      this.logger.warn({ msg: `rollout log of ${namespace}/${rc.metadata.name} not written: ${error.message}`, lines });
    });
  }

  /** The status as the cache shows the revisions now; written only when it changed. */
  private async writeStatus(dc: DeploymentConfig, states: RevisionState[], latestPhase: DeploymentPhase | undefined, failure: RolloutFailure | undefined) {
    const now = this.settings.now();
    if (isDeepStrictEqual(nextStatus(dc, dc.status, states, latestPhase, failure, now), dc.status)) return;
    await this.dcs.updateStatus(dc.metadata.namespace, dc.metadata.name, (status, current) => nextStatus(current, status, states, latestPhase, failure, now));
  }
}

/** What a revision entering `phase` announces: that it started, rolled out, or failed. */
function phaseEvents(dc: DeploymentConfig, rc: ReplicationController, phase: DeploymentPhase): OutboxEvent[] {
  const { namespace, name, uid } = dc.metadata;
  const version = revisionVersion(rc);
  switch (phase) {
    case 'Pending':
      return [{ id: `deployment.triggered:${uid}:${version}`, type: 'deployment.triggered', data: { namespace, name, uid, version, cause: rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.cause] ?? 'unknown' } }];
    case 'Complete':
      return [{ id: `deployment.rolled:${uid}:${version}`, type: 'deployment.rolled', data: { namespace, name, uid, version, replicationController: rc.metadata.name } }];
    case 'Failed': {
      const { reason, message } = failureOf(rc) ?? { reason: 'ProgressDeadlineExceeded', message: `revision ${version} failed` };
      return [{ id: `deployment.failed:${uid}:${version}`, type: 'deployment.failed', data: { namespace, name, uid, version, reason, message } }];
    }
    default:
      return [];
  }
}

/** A revision this write scaled says so (a Normal Event on the DC); `before` is what the step saw. */
function scaledEvents(dc: DeploymentConfig, before: ReplicationController, after: ReplicationController): OutboxEvent[] {
  if (after.spec.replicas === before.spec.replicas) return [];
  const { namespace, name, uid } = dc.metadata;
  const data = { namespace, name, uid, replicationController: after.metadata.name, from: before.spec.replicas, to: after.spec.replicas };
  return [{ id: `deployment.scaled:${after.metadata.uid}:${after.metadata.resourceVersion}`, type: 'deployment.scaled', data }];
}

/** Why a revision failed, as its annotations say. */
function failureOf(rc: ReplicationController | undefined): RolloutFailure | undefined {
  const reason = rc?.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.statusReason];
  if (reason !== CRASH_LOOP_BACK_OFF && reason !== 'ProgressDeadlineExceeded' && reason !== 'RolloutCancelled' && reason !== 'HookFailed') return undefined;
  return { reason, message: rc?.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.statusMessage] ?? reason };
}

/** When a pod last became ready (0 when it is not). */
function readySince(pod: Pod): number {
  const ready = pod.status.conditions.find((condition) => condition.type === 'Ready' && condition.status === 'True');
  return ready ? Date.parse(ready.lastTransitionTime) || 0 : 0;
}

function nextStatus(
  dc: DeploymentConfig,
  status: DeploymentConfigStatus,
  states: RevisionState[],
  latestPhase: DeploymentPhase | undefined,
  failure: RolloutFailure | undefined,
  now: number,
): DeploymentConfigStatus {
  const latest = states.find((s) => s.version === dc.status.latestVersion);
  const observed = {
    replicas: states.reduce((sum, s) => sum + s.current, 0),
    readyReplicas: states.reduce((sum, s) => sum + s.ready, 0),
    updatedReplicas: latest?.current ?? 0,
  };
  const required = minAvailable(dc.spec);
  let conditions: Condition[] = setCondition(
    status.conditions,
    observed.readyReplicas >= required
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: `${observed.readyReplicas} of ${required} required replicas are ready` },
    now,
  );
  const progressing = progressingCondition(latestPhase, dc.status.latestVersion, failure);
  if (progressing) conditions = setCondition(conditions, progressing, now);
  const next = { ...status, ...observed, observedGeneration: dc.metadata.generation, conditions };
  return isDeepStrictEqual(next, status) ? status : next;
}

function progressingCondition(phase: DeploymentPhase | undefined, version: number, failure: RolloutFailure | undefined): Omit<Condition, 'lastTransitionTime'> | undefined {
  const rc = `revision ${version}`;
  switch (phase) {
    case 'Complete':
      return { type: 'Progressing', status: 'True', reason: 'NewReplicationControllerAvailable', message: `${rc} is available` };
    case 'Failed':
      return { type: 'Progressing', status: 'False', reason: failure?.reason ?? 'ProgressDeadlineExceeded', message: failure?.message ?? `${rc} did not become ready in time` };
    case undefined:
      return undefined;
    default:
      return { type: 'Progressing', status: 'True', reason: 'ReplicationControllerUpdated', message: `${rc} is rolling out` };
  }
}
