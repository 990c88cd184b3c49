import { Inject, Injectable } from '@nestjs/common';
import {
  DEPLOYMENT_ANNOTATIONS,
  DEPLOYMENT_LABELS,
  type DeploymentConfig,
  type DeploymentConfigStatus,
  type DeploymentPhase,
  type ReplicationController,
} from '@paas/contracts/deployments';
import { isOwnedBy, type Condition } from '@paas/contracts/meta';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import type { ReconcileResult } from '@paas/platform/work-queue';
import type { Controller } from '../reconcile/controller';
import { isDeepStrictEqual } from 'node:util';
import { setCondition } from '../conditions';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { ReplicationControllerRepository } from '../replicationcontrollers/replicationcontroller.repository';
import { splitKey, type Store } from '../store';
import { DeploymentConfigRepository } from './deploymentconfig.repository';
import { ImageChangeTriggerController } from './image-change-trigger';
import { Revisions, revisionName, revisionPhase, revisionVersion } from './revisions';
import { planRollout, type RevisionState } from './rollout-plan';

/**
 * Drives a DeploymentConfig's revisions, reading the informers' caches: checks its ImageChange
 * triggers against the registry (a moved tag starts a revision, whether or not its event
 * arrived), makes sure the newest one has its RC, scales RCs one rolling step at a time
 * (`planRollout`), and writes the DC's status last, only when it changed. A revision's phase
 * moves announce it through the outbox of that write: `deployment.triggered` (Pending),
 * `deployment.rolled` (Complete), `deployment.failed` (Failed).
 */
@Injectable()
export class DeploymentConfigReconciler implements Controller {
  constructor(
    @Inject(DeploymentConfigRepository) private readonly dcs: Store<DeploymentConfig>,
    @Inject(ReplicationControllerRepository) private readonly rcs: Store<ReplicationController>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'dcs' | 'rcs'>,
    @Inject(Revisions) private readonly revisions: Pick<Revisions, 'ensureLatest'>,
    @Inject(ImageChangeTriggerController) private readonly imageTriggers: Pick<ImageChangeTriggerController, 'resolve' | 'forget'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  readonly kind = 'deploymentconfigs' as const;

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const dc = this.cache.dcs.get(namespace, name);
    const labelled = this.cache.rcs.list({ namespace, labels: { [DEPLOYMENT_LABELS.deploymentConfig]: name } });
    const owned = labelled.filter((rc) => isOwnedBy(rc, dc));
    // RCs of a deleted DC (or an older DC of that name) go; their RC reconcile removes the pods.
    for (const rc of labelled.filter((rc) => !owned.includes(rc))) await this.rcs.delete(namespace, rc.metadata.name).catch(() => undefined);
    if (!dc) {
      this.imageTriggers.forget(namespace, name);
      return {};
    }
    // Level-triggered ImageChange: a lost or failed imagestream.updated is caught up here.
    const triggers = await this.imageTriggers.resolve(dc);
    if (triggers.triggered) return { requeueAfterMs: 0 };

    const version = dc.status.latestVersion;
    let latest = owned.find((rc) => rc.metadata.name === revisionName(name, version));
    if (version > 0 && !latest) {
      await this.revisions.ensureLatest(dc, 'recovered: the revision had no ReplicationController');
      return { requeueAfterMs: 0 };
    }
    if (latest && revisionPhase(latest) === 'New') latest = await this.setRevision(dc, latest, { phase: 'Pending' });

    const states = owned.map((rc) => stateOf(latest && rc.metadata.name === latest.metadata.name ? latest : rc));
    const plan = planRollout(dc.spec, version, states, this.settings.now());
    for (const rc of owned) {
      const replicas = plan.scale[rc.metadata.name];
      const phase = plan.phases[rc.metadata.name];
      if (replicas !== undefined || phase !== undefined) await this.setRevision(dc, rc, { replicas, phase });
    }

    await this.writeStatus(dc, states, plan.latestPhase);
    const waits = triggers.retryAfterMs === undefined ? [] : [triggers.retryAfterMs];
    if (plan.latestPhase === 'Running' && latest) {
      const deadline = latest.metadata.creationTimestamp ? Date.parse(latest.metadata.creationTimestamp) + dc.spec.strategy.rollingParams.timeoutSeconds * 1000 : 0;
      waits.push(Math.max(0, Math.min(this.settings.resyncMs, deadline - this.settings.now() + 1)));
    }
    return waits.length ? { requeueAfterMs: Math.min(...waits) } : {};
  }

  /** Scales a revision or moves its phase; a phase that announces something owes its event through the write's outbox. */
  private async setRevision(dc: DeploymentConfig, rc: ReplicationController, change: { replicas?: number; phase?: DeploymentPhase }): Promise<ReplicationController> {
    return this.rcs.update(
      rc.metadata.namespace,
      rc.metadata.name,
      (current) => ({
        ...current,
        metadata: change.phase ? { ...current.metadata, annotations: { ...current.metadata.annotations, [DEPLOYMENT_ANNOTATIONS.phase]: change.phase } } : current.metadata,
        spec: change.replicas !== undefined ? { ...current.spec, replicas: change.replicas } : current.spec,
      }),
      { outbox: (next) => (change.phase && change.phase !== revisionPhase(rc) ? phaseEvents(dc, next, change.phase) : []) },
    );
  }

  /** The status as the cache shows the revisions now; written only when it changed. */
  private async writeStatus(dc: DeploymentConfig, states: RevisionState[], latestPhase: DeploymentPhase | undefined) {
    const now = this.settings.now();
    if (isDeepStrictEqual(nextStatus(dc, dc.status, states, latestPhase, now), dc.status)) return;
    await this.dcs.updateStatus(dc.metadata.namespace, dc.metadata.name, (status, current) => nextStatus(current, status, states, latestPhase, now));
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
      const timeout = dc.spec.strategy.rollingParams.timeoutSeconds;
      const message = `revision ${version} did not become ready within ${timeout}s; the previous revision keeps serving`;
      return [{ id: `deployment.failed:${uid}:${version}`, type: 'deployment.failed', data: { namespace, name, uid, version, reason: 'ProgressDeadlineExceeded', message } }];
    }
    default:
      return [];
  }
}

function nextStatus(dc: DeploymentConfig, status: DeploymentConfigStatus, states: RevisionState[], latestPhase: DeploymentPhase | undefined, now: number): DeploymentConfigStatus {
  const { replicas, strategy } = dc.spec;
  const latest = states.find((s) => s.version === dc.status.latestVersion);
  const observed = {
    replicas: states.reduce((sum, s) => sum + s.current, 0),
    readyReplicas: states.reduce((sum, s) => sum + s.ready, 0),
    updatedReplicas: latest?.current ?? 0,
  };
  const minAvailable = Math.max(0, replicas - strategy.rollingParams.maxUnavailable);
  let conditions: Condition[] = setCondition(
    status.conditions,
    observed.readyReplicas >= minAvailable
      ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }
      : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: `${observed.readyReplicas} of ${minAvailable} required replicas are ready` },
    now,
  );
  const progressing = progressingCondition(latestPhase, dc.status.latestVersion);
  if (progressing) conditions = setCondition(conditions, progressing, now);
  const next = { ...status, ...observed, observedGeneration: dc.metadata.generation, conditions };
  return isDeepStrictEqual(next, status) ? status : next;
}

function stateOf(rc: ReplicationController): RevisionState {
  return {
    name: rc.metadata.name,
    version: revisionVersion(rc),
    desired: rc.spec.replicas,
    current: rc.status.replicas,
    ready: rc.status.readyReplicas,
    phase: revisionPhase(rc),
    createdAt: Date.parse(rc.metadata.creationTimestamp) || 0,
  };
}

function progressingCondition(phase: DeploymentPhase | undefined, version: number): Omit<Condition, 'lastTransitionTime'> | undefined {
  const rc = `revision ${version}`;
  switch (phase) {
    case 'Complete':
      return { type: 'Progressing', status: 'True', reason: 'NewReplicationControllerAvailable', message: `${rc} is available` };
    case 'Failed':
      return { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `${rc} did not become ready in time` };
    case undefined:
      return undefined;
    default:
      return { type: 'Progressing', status: 'True', reason: 'ReplicationControllerUpdated', message: `${rc} is rolling out` };
  }
}
