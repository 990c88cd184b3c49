import { Inject, Injectable } from '@nestjs/common';
import { DEPLOYMENT_ANNOTATIONS, DEPLOYMENT_LABELS, type DeploymentConfig, type DeploymentConfigStatus, type DeploymentPhase, type PodTemplate, type ReplicationController } from '@paas/contracts/deployments';
import { isOwnedBy } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import type { NewResource } from '@paas/platform/resource-repository';
import { ReplicationControllerRepository } from '../replicationcontrollers/replicationcontroller.repository';
import type { Store } from '../store';

export function revisionName(dc: string, version: number): string {
  return `${dc}-${version}`;
}

export function revisionPhase(rc: ReplicationController): DeploymentPhase {
  return (rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.phase] as DeploymentPhase | undefined) ?? 'New';
}

export function revisionVersion(rc: ReplicationController): number {
  return Number(rc.metadata.annotations?.[DEPLOYMENT_ANNOTATIONS.version] ?? 0);
}

/** `status` of a DC whose next revision is asked for, and why: the cause goes with the version. */
export function nextRevision(status: DeploymentConfigStatus, cause: string): DeploymentConfigStatus {
  return { ...status, latestVersion: status.latestVersion + 1, details: { message: cause } };
}

/** Why revision `latestVersion` was made: the cause written with the version; a DC stored before there were details says less. */
function revisionCause(dc: DeploymentConfig): string {
  return dc.status.details?.message ?? 'recovered: the revision had no ReplicationController';
}

/** The ReplicationController of revision `latestVersion`: the DC's template frozen, starting at 0 pods. */
export function newRevision(dc: DeploymentConfig, cause: string): NewResource<ReplicationController> {
  const { name, namespace, uid } = dc.metadata;
  const version = dc.status.latestVersion;
  const rcName = revisionName(name, version);
  const selector = { [DEPLOYMENT_LABELS.deploymentConfig]: name, [DEPLOYMENT_LABELS.deployment]: rcName };
  return {
    metadata: {
      name: rcName,
      namespace,
      labels: { ...dc.metadata.labels, [DEPLOYMENT_LABELS.deploymentConfig]: name },
      annotations: {
        [DEPLOYMENT_ANNOTATIONS.version]: String(version),
        [DEPLOYMENT_ANNOTATIONS.phase]: 'New',
        [DEPLOYMENT_ANNOTATIONS.cause]: cause,
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'DeploymentConfig', name, uid, controller: true }],
    },
    spec: {
      replicas: 0,
      selector,
      template: { metadata: { labels: { ...dc.spec.template.metadata.labels, ...selector } }, spec: dc.spec.template.spec },
    },
    status: { replicas: 0, readyReplicas: 0, observedGeneration: 0 },
  };
}

/**
 * The newest revision's RC as the DC controller starts its rollout: in the phase and at the
 * replicas its first step gives it (stamped as scaled then), so that its pods start with no
 * further write.
 */
export function startingRevision(dc: DeploymentConfig, step: { phase: DeploymentPhase; replicas: number; at: string }): NewResource<ReplicationController> {
  const rc = newRevision(dc, revisionCause(dc));
  const scaled: Record<string, string> = step.replicas > 0 ? { [DEPLOYMENT_ANNOTATIONS.scaledAt]: step.at, [DEPLOYMENT_ANNOTATIONS.scaledUpAt]: step.at } : {};
  return {
    ...rc,
    metadata: { ...rc.metadata, annotations: { ...rc.metadata.annotations, [DEPLOYMENT_ANNOTATIONS.phase]: step.phase, ...scaled } },
    spec: { ...rc.spec, replicas: step.replicas },
  };
}

/** The DC template a revision froze, without the label that names the revision. */
export function revisionTemplate(rc: ReplicationController): PodTemplate {
  const labels = { ...rc.spec.template.metadata.labels };
  delete labels[DEPLOYMENT_LABELS.deployment];
  return { metadata: { labels }, spec: rc.spec.template.spec };
}

/** Creates the newest revision's RC if it does not exist yet (idempotent); its change has the DC reconciled. */
@Injectable()
export class Revisions {
  constructor(@Inject(ReplicationControllerRepository) private readonly rcs: Store<ReplicationController>) {}

  async ensureLatest(dc: DeploymentConfig): Promise<void> {
    const { namespace, name } = dc.metadata;
    if (dc.status.latestVersion > 0 && !(await this.rcs.find(namespace, revisionName(name, dc.status.latestVersion)))) {
      await this.rcs.create(newRevision(dc, revisionCause(dc))).catch((error) => {
        if (!(error instanceof ApiError && error.status.reason === 'AlreadyExists')) throw error;
      });
    }
  }

  /** Marks a revision's rollout cancelled: its DC's reconcile fails it and rolls back. */
  async cancel(rc: ReplicationController): Promise<void> {
    await this.rcs.update(rc.metadata.namespace, rc.metadata.name, (current) => ({
      ...current,
      metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [DEPLOYMENT_ANNOTATIONS.cancelled]: 'true' } },
    }));
  }

  /** Revision `version` of `dc`, if it has one. */
  async find(dc: DeploymentConfig, version: number): Promise<ReplicationController | undefined> {
    const rc = await this.rcs.find(dc.metadata.namespace, revisionName(dc.metadata.name, version));
    return rc && isOwnedBy(rc, dc) ? rc : undefined;
  }

  /** The newest Complete revision of `dc` older than `version`. */
  async lastCompleteBefore(dc: DeploymentConfig, version: number): Promise<ReplicationController | undefined> {
    const { namespace, name } = dc.metadata;
    const revisions = await this.rcs.list({ namespace, labels: { [DEPLOYMENT_LABELS.deploymentConfig]: name } });
    return revisions
      .filter((rc) => isOwnedBy(rc, dc) && revisionVersion(rc) < version && revisionPhase(rc) === 'Complete')
      .sort((a, b) => revisionVersion(b) - revisionVersion(a))[0];
  }
}
