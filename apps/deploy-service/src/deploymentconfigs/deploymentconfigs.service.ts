import { Inject, Injectable } from '@nestjs/common';
import { deploymentConfigInput, deploymentConfigRollbackInput, lifecycleHooksOf, type DeploymentConfig, type DeploymentConfigInput } from '@paas/contracts/deployments';
import { matchesLabels, type ResourceList } from '@paas/contracts/meta';
import { successStatus, type Status } from '@paas/contracts/status';
import type { CreateRequest, DeleteRequest, GetRequest, ListRequest, UpdateRequest } from '@paas/contracts/rpc';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { listsFromCache } from '@paas/platform/informer';
import { dryRunPreview, listResponse, parseBody } from '@paas/platform/rpc-input';
import { DeployInformers } from '../informers';
import { QuotaAdmission } from '../quotas/quota-admission';
import type { Store } from '../store';
import { DeploymentConfigRepository } from './deploymentconfig.repository';
import { OBSERVED_STREAMS_ANNOTATION } from './image-change-trigger';
import { Revisions, nextRevision, revisionPhase, revisionTemplate, revisionVersion } from './revisions';
import { rolloutEnded } from './rollout-plan';
import { carryResolvedImages, rollsOutOnConfigChange, templateChanged } from './triggers';

const KIND = 'DeploymentConfig';
/** Set while a paused DC has a template change that has not rolled out yet. */
export const CONFIG_CHANGE_PENDING_ANNOTATION = 'paas.dev/config-change-pending';

/**
 * The DeploymentConfig API: CRUD and scale; a create or template change may start a revision
 * (ConfigChange). Every write reaches the DC controller as a change; ImageChange triggers are
 * its to resolve.
 */
@Injectable()
export class DeploymentConfigsService {
  constructor(
    @Inject(DeploymentConfigRepository) private readonly dcs: Store<DeploymentConfig>,
    @Inject(Revisions) private readonly revisions: Pick<Revisions, 'ensureLatest' | 'find' | 'lastCompleteBefore' | 'cancel'>,
    @Inject(DeployInformers) private readonly informers: Pick<DeployInformers, 'dcs'>,
    @Inject(QuotaAdmission) private readonly admission: Pick<QuotaAdmission, 'admit'>,
  ) {}

  get({ namespace, name }: GetRequest): Promise<DeploymentConfig> {
    return this.dcs.get(namespace, name);
  }

  list(request: ListRequest): Promise<ResourceList<DeploymentConfig>> {
    return listResponse(KIND, listsFromCache(this.informers.dcs, this.dcs), request);
  }

  async create({ namespace, body, dryRun }: CreateRequest): Promise<DeploymentConfig> {
    const input = parseBody(deploymentConfigInput, body, KIND, namespace);
    assertConsistent(input);
    const spec = this.admission.admit(namespace, input.metadata.name, input.spec);
    // Created paused, its first revision waits for the resume.
    const pending: Record<string, string> = rollsOutOnConfigChange(input.spec) && input.spec.paused ? { [CONFIG_CHANGE_PENDING_ANNOTATION]: 'true' } : {};
    const resource = {
      metadata: { name: input.metadata.name, namespace, labels: input.metadata.labels ?? {}, annotations: { ...input.metadata.annotations, ...pending } },
      spec,
      status: {
        ...(rollsOutOnConfigChange(input.spec) && !input.spec.paused ? { latestVersion: 1, details: { message: 'config change: created' } } : { latestVersion: 0 }),
        observedGeneration: 0,
        replicas: 0,
        readyReplicas: 0,
        updatedReplicas: 0,
        conditions: [],
      },
    };
    if (dryRun) {
      if (await this.dcs.find(namespace, input.metadata.name)) throw ApiError.alreadyExists(KIND, input.metadata.name);
      return dryRunPreview<DeploymentConfig>(KIND, resource);
    }
    const dc = await this.dcs.create(resource);
    // Its reconcile (the create's change enqueues it) resolves ImageChange triggers whose image already exists.
    await this.revisions.ensureLatest(dc);
    return dc;
  }

  async update({ namespace, name, body }: UpdateRequest): Promise<DeploymentConfig> {
    const input = parseBody(deploymentConfigInput, body, KIND, namespace);
    if (input.metadata.name !== name) throw ApiError.invalid(KIND, name, 'metadata.name', `must be "${name}", the name being updated`);
    assertConsistent(input);
    let rolled = false;
    const dc = await this.dcs.update(
      namespace,
      name,
      (current) => {
        const spec = this.admission.admit(namespace, name, carryResolvedImages(current.spec, input.spec), current.spec);
        // A template changed while paused rolls out when the DC is resumed, not before.
        const pending = current.metadata.annotations?.[CONFIG_CHANGE_PENDING_ANNOTATION] === 'true';
        const changed = (templateChanged(current.spec.template, spec.template) || pending) && rollsOutOnConfigChange(spec);
        rolled = changed && !spec.paused;
        const annotations = { ...carryObservedStreams(current.metadata.annotations, input.metadata.annotations) };
        delete annotations[CONFIG_CHANGE_PENDING_ANNOTATION];
        if (changed && spec.paused) annotations[CONFIG_CHANGE_PENDING_ANNOTATION] = 'true';
        return {
          ...current,
          metadata: { ...current.metadata, labels: input.metadata.labels ?? current.metadata.labels, annotations },
          spec,
          status: rolled ? nextRevision(current.status, 'config change: template updated') : current.status,
        };
      },
      { resourceVersion: input.metadata.resourceVersion },
    );
    await this.revisions.ensureLatest(dc);
    return dc;
  }

  async scale({ namespace, name, replicas }: GetRequest & { replicas: number }): Promise<DeploymentConfig> {
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > 100) throw ApiError.invalid('Scale', name, 'spec.replicas', 'must be an integer from 0 to 100');
    return this.dcs.update(namespace, name, (current) => ({ ...current, spec: this.admission.admit(namespace, name, { ...current.spec, replicas }, current.spec) }));
  }

  /**
   * `oc rollout latest`: a new revision of the template as it is, whatever its triggers; refused
   * (400) while the DC is paused or before its image is known (an ImageChange trigger that has
   * not fired yet).
   */
  async instantiate({ namespace, name }: GetRequest): Promise<DeploymentConfig> {
    const dc = await this.dcs.update(namespace, name, (current) => {
      if (current.spec.paused) throw ApiError.of('BadRequest', `cannot roll out deploymentconfig "${name}": it is paused (set spec.paused to false first)`);
      const waiting = current.spec.template.spec.containers.filter((container) => !container.image).map((container) => container.name);
      if (waiting.length) throw ApiError.of('BadRequest', `cannot roll out deploymentconfig "${name}": container ${waiting.join(', ')} has no image yet (its ImageChange trigger has not fired)`);
      return { ...current, status: nextRevision(current.status, 'manual change: rollout latest') };
    });
    await this.revisions.ensureLatest(dc);
    return dc;
  }

  /**
   * `oc rollback` / `oc rollout undo`: the template of an earlier revision (`spec.revision`; 0,
   * the last Complete one before the latest) rolled out as a new revision, through the same
   * health-gated rollout as any other. As `oc rollback` does, automatic ImageChange triggers are
   * turned off, so that the next image pushed does not roll forward again at once: set their
   * `automatic` back to resume them.
   */
  async rollback({ namespace, name, body }: GetRequest & { body?: unknown }): Promise<DeploymentConfig> {
    const input = validate(deploymentConfigRollbackInput, body ?? {}, 'DeploymentConfigRollback', name);
    if (!input.ok) throw new ApiError(input.status);
    const current = await this.dcs.get(namespace, name);
    const { revision } = input.value.spec;
    const latest = current.status.latestVersion;
    const target = revision ? await this.revisions.find(current, revision) : await this.revisions.lastCompleteBefore(current, latest);
    if (!target) {
      const missing = revision ? `deploymentconfig "${name}" has no revision ${revision}` : `deploymentconfig "${name}" has no Complete revision before ${latest} to roll back to`;
      throw ApiError.invalid('DeploymentConfigRollback', name, 'spec.revision', missing);
    }
    const version = revisionVersion(target);
    if (version === latest) throw ApiError.invalid('DeploymentConfigRollback', name, 'spec.revision', `revision ${version} is the latest already`);
    const dc = await this.dcs.update(namespace, name, (dc) => {
      if (dc.spec.paused) throw ApiError.of('BadRequest', `cannot roll back deploymentconfig "${name}": it is paused (set spec.paused to false first)`);
      const triggers = dc.spec.triggers.map((trigger) => (trigger.type === 'ImageChange' ? { ...trigger, imageChangeParams: { ...trigger.imageChangeParams, automatic: false } } : trigger));
      return { ...dc, spec: { ...dc.spec, template: revisionTemplate(target), triggers }, status: nextRevision(dc.status, `rollback to revision ${version}`) };
    });
    await this.revisions.ensureLatest(dc);
    return dc;
  }

  /**
   * `oc rollout cancel`: marks the newest revision cancelled (`openshift.io/deployment.cancelled`)
   * while it rolls out; its reconcile fails it as RolloutCancelled and the last complete revision
   * gets every replica back, as for any failed rollout. 400 when no rollout is in progress.
   */
  async cancel({ namespace, name }: GetRequest): Promise<DeploymentConfig> {
    const dc = await this.dcs.get(namespace, name);
    const latest = await this.revisions.find(dc, dc.status.latestVersion);
    const phase = latest && revisionPhase(latest);
    if (!latest || rolloutEnded(revisionPhase(latest))) {
      throw ApiError.of('BadRequest', `cannot cancel deploymentconfig "${name}": no rollout is in progress (revision ${dc.status.latestVersion} is ${phase ?? 'not created yet'})`);
    }
    await this.revisions.cancel(latest);
    return dc;
  }

  /** The DC goes at once; its reconcile then removes its RCs, whose reconciles remove pods and containers. */
  async delete({ namespace, name }: DeleteRequest): Promise<Status> {
    const dc = await this.dcs.delete(namespace, name);
    return successStatus(`deploymentconfig "${name}" deleted`, { kind: KIND, name: dc.metadata.name });
  }
}

/** New annotations replace the old ones, except the image triggers' bookkeeping, which stays unless set. */
function carryObservedStreams(current: Record<string, string> | undefined, next: Record<string, string> | undefined): Record<string, string> | undefined {
  const observed = current?.[OBSERVED_STREAMS_ANNOTATION];
  if (!next) return current;
  return observed === undefined || OBSERVED_STREAMS_ANNOTATION in next ? next : { ...next, [OBSERVED_STREAMS_ANNOTATION]: observed };
}

/** What the schema cannot say alone: the template carries the selector's labels; triggers name real containers. */
function assertConsistent(input: DeploymentConfigInput) {
  const { selector, template } = input.spec;
  if (!Object.keys(selector).length) throw ApiError.invalid(KIND, input.metadata.name, 'spec.selector', 'must not be empty');
  if (!matchesLabels(template.metadata.labels, selector)) {
    throw ApiError.invalid(KIND, input.metadata.name, 'spec.template.metadata.labels', '`selector` does not match template `labels`');
  }
  const { minReadySeconds, progressDeadlineSeconds } = input.spec;
  if (minReadySeconds >= progressDeadlineSeconds) {
    // A pod would still be waiting to count when the rollout is declared stalled (as Kubernetes checks).
    throw ApiError.invalid(KIND, input.metadata.name, 'spec.minReadySeconds', `must be less than spec.progressDeadlineSeconds (${progressDeadlineSeconds})`);
  }
  const names = template.spec.containers.map((c) => c.name);
  input.spec.triggers.forEach((trigger, i) => {
    if (trigger.type !== 'ImageChange') return;
    const unknown = trigger.imageChangeParams.containerNames.filter((n) => !names.includes(n));
    if (unknown.length) throw ApiError.invalid(KIND, input.metadata.name, `spec.triggers.${i}.imageChangeParams.containerNames`, `no container named ${unknown.join(', ')}`);
  });
  const params = input.spec.strategy.type === 'Recreate' ? 'recreateParams' : 'rollingParams';
  for (const [type, hook] of Object.entries(lifecycleHooksOf(input.spec.strategy))) {
    if (!names.includes(hook.execNewPod.containerName)) {
      throw ApiError.invalid(KIND, input.metadata.name, `spec.strategy.${params}.${type}.execNewPod.containerName`, `no container named ${hook.execNewPod.containerName}`);
    }
  }
}
