import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DeploymentConfig } from '@paas/contracts/deployments';
import type { ImageStreamTag } from '@paas/contracts/images';
import { ApiError } from '@paas/platform/api-error';
import { HandledElsewhereError } from '@paas/platform/events';
import { RpcClient } from '@paas/platform/rpc';
import { ShardOwnership } from '@paas/platform/shard-ownership';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { ENQUEUER, type Enqueuer } from '../reconcile/enqueuer';
import { keyOf, type Store } from '../store';
import { DeploymentConfigRepository } from './deploymentconfig.repository';
import { nextRevision } from './revisions';
import { applyTriggeredImage, imageChangeTriggers } from './triggers';

/**
 * Which snapshot of each trigger's ImageStream the DC last took an image from, as
 * `{"<stream>:<tag>": "<stream uid>/<resourceVersion>"}`: a snapshot older than that one
 * (a stale read) never rolls the DC back. Kept across user updates (`carryResolvedImages`).
 */
export const OBSERVED_STREAMS_ANNOTATION = 'paas.dev/image-trigger-streams';

/** How long one `imagestreamtags.get` may take before the check is given up for a while. */
const REGISTRY_TIMEOUT_MS = 2_000;
/** While the registry-service does not answer, checks pause this long, doubling up to the maximum. */
const REGISTRY_RETRY_FIRST_MS = 2_000;
const REGISTRY_RETRY_MAX_MS = 30_000;

/** The registry-service as the triggers use it (an `RpcClient`, or a fake in unit tests). */
export interface ImageStreamReader {
  request(method: 'imagestreamtags.get', request: { namespace: string; name: string }, options: { timeoutMs: number }): Promise<ImageStreamTag>;
}

/** What the registry said about one trigger's tag. */
type TagLookup = { image?: string; snapshot?: string } | 'unavailable';

/**
 * ImageChange triggers, level-triggered: the DC reconcile calls `resolve`, which reads each
 * automatic trigger's tag from the registry-service (`items[0]`, never an event's payload)
 * and, where it differs from `lastTriggeredImage`, sets the image and `latestVersion + 1`
 * in one optimistic write; the reconcile goes on to start that revision. Idempotent, and safe
 * because the WorkQueue runs one reconcile per DC at a time. `imagestream.updated` only
 * enqueues keys.
 *
 * Cost: one `imagestreamtags.get` per trigger per DC when an event asked for it, else at most
 * once per resync period; while the registry is unavailable or slow, checks are skipped for
 * a resync period so rollouts of other DCs are not held up (the next resync retries).
 */
@Injectable()
export class ImageChangeTriggerController {
  private readonly logger = new Logger(ImageChangeTriggerController.name);
  /** DC keys an `imagestream.updated` asked to check on their next reconcile. */
  private readonly requested = new Set<string>();
  /** When each DC's triggers were last checked against the registry. */
  private readonly checkedAt = new Map<string, number>();
  private registryUnavailableUntil = 0;
  private registryRetryMs = REGISTRY_RETRY_FIRST_MS;

  constructor(
    @Inject(DeploymentConfigRepository) private readonly dcs: Store<DeploymentConfig>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'dcs'>,
    @Inject(RpcClient) private readonly rpc: ImageStreamReader,
    @Inject(ENQUEUER) private readonly enqueue: Enqueuer,
    @Inject(ShardOwnership) private readonly ownership: Pick<ShardOwnership, 'ownsNamespace'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: Pick<DeploySettings, 'now' | 'resyncMs'>,
  ) {}

  /**
   * An ImageStream tag moved: every DC with an automatic trigger on it is enqueued, nothing
   * more. The event reaches one replica of the shared consumer; one that does not own the
   * namespace hands it back for the one that does.
   */
  async imageStreamUpdated(namespace: string, imageStream: string, tag: string): Promise<void> {
    if (!this.ownership.ownsNamespace(namespace)) throw new HandledElsewhereError(`namespace ${namespace} is worked by another replica`);
    const from = `${imageStream}:${tag}`;
    for (const dc of this.cache.dcs.list({ namespace })) {
      if (imageChangeTriggers(dc.spec).some((t) => t.imageChangeParams.automatic && t.imageChangeParams.from.name === from)) {
        this.requested.add(keyOf(namespace, dc.metadata.name));
        this.enqueue.deploymentConfig(namespace, dc.metadata.name);
      }
    }
  }

  /** The DC is gone: forget what was remembered about it. */
  forget(namespace: string, name: string): void {
    this.requested.delete(keyOf(namespace, name));
    this.checkedAt.delete(keyOf(namespace, name));
  }

  /**
   * Checks the DC's automatic triggers against the registry when due (asked by an event, or
   * not checked for a resync period) and, for a moved tag, asks for a new revision. Returns
   * the DC as stored afterwards, and when to check again while the registry does not answer.
   */
  async resolve(dc: DeploymentConfig): Promise<{ dc: DeploymentConfig; retryAfterMs?: number }> {
    const { namespace, name } = dc.metadata;
    const key = keyOf(namespace, name);
    const froms = [...new Set(imageChangeTriggers(dc.spec).filter((t) => t.imageChangeParams.automatic).map((t) => t.imageChangeParams.from.name))];
    const now = this.settings.now();
    // Half a period, so the resync's own reconcile always finds the check due.
    const due = this.requested.has(key) || now - (this.checkedAt.get(key) ?? -Infinity) >= this.settings.resyncMs / 2;
    if (!froms.length || !due) return { dc };
    // Paused: nothing triggers; the check is made as soon as the DC is resumed (its update reconciles it).
    if (dc.spec.paused) {
      this.requested.add(key);
      return { dc };
    }
    if (now < this.registryUnavailableUntil) return { dc, retryAfterMs: this.registryUnavailableUntil - now };
    this.requested.delete(key);

    const current = new Map<string, { image: string; snapshot: string }>();
    for (const from of froms) {
      const lookup = await this.lookUp(namespace, from);
      if (lookup === 'unavailable') {
        // Checked again once the pause is over (its reconcile is requeued); the rollout of what is stored goes on meanwhile.
        this.requested.add(key);
        this.registryUnavailableUntil = this.settings.now() + this.registryRetryMs;
        const retryAfterMs = this.registryRetryMs;
        this.registryRetryMs = Math.min(this.registryRetryMs * 2, REGISTRY_RETRY_MAX_MS);
        return { dc, retryAfterMs };
      }
      if (lookup.image && lookup.snapshot) current.set(from, { image: lookup.image, snapshot: lookup.snapshot });
    }
    this.checkedAt.set(key, now);
    this.registryRetryMs = REGISTRY_RETRY_FIRST_MS;

    let triggeredBy: string | undefined;
    const updated = await this.dcs.update(namespace, name, (latest) => {
      let spec = latest.spec;
      const observed = observedStreams(latest);
      const changed: string[] = [];
      for (const trigger of imageChangeTriggers(latest.spec)) {
        const from = trigger.imageChangeParams.from.name;
        const tag = current.get(from);
        if (!trigger.imageChangeParams.automatic || !tag || trigger.imageChangeParams.lastTriggeredImage === tag.image) continue;
        if (olderSnapshot(tag.snapshot, observed[from])) continue;
        spec = applyTriggeredImage(spec, from, tag.image);
        observed[from] = tag.snapshot;
        changed.push(`image change: ${from} → ${tag.image}`);
      }
      if (!changed.length) return undefined;
      triggeredBy = changed.join('; ');
      return {
        ...latest,
        metadata: { ...latest.metadata, annotations: { ...latest.metadata.annotations, [OBSERVED_STREAMS_ANNOTATION]: JSON.stringify(observed) } },
        spec,
        status: nextRevision(latest.status, triggeredBy),
      };
    });
    if (!triggeredBy) return { dc: updated };
    this.logger.log({ msg: `deploymentconfig ${namespace}/${name} revision ${updated.status.latestVersion}: ${triggeredBy}` });
    return { dc: updated };
  }

  /**
   * The tag's current `dockerImageReference` and the stream snapshot it was read from. No image
   * while the stream or tag does not exist (404: its `imagestream.updated` will come);
   * 'unavailable' when the registry is down, slow or failing (5xx: try again later). Never terminal.
   */
  private async lookUp(namespace: string, from: string): Promise<TagLookup> {
    let streamTag: ImageStreamTag;
    try {
      streamTag = await this.rpc.request('imagestreamtags.get', { namespace, name: from }, { timeoutMs: REGISTRY_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof ApiError && error.status.code < 500) {
        if (error.status.code !== 404) this.logger.warn({ msg: `image trigger ${namespace}/${from}: ${error.message}` });
        return {};
      }
      this.logger.warn({ msg: `image trigger ${namespace}/${from} not checked, retrying at the next resync: ${(error as Error).message}` });
      return 'unavailable';
    }
    return { image: streamTag.image.dockerImageReference, snapshot: `${streamTag.metadata.uid}/${streamTag.metadata.resourceVersion}` };
  }
}

function observedStreams(dc: DeploymentConfig): Record<string, string> {
  try {
    const parsed = JSON.parse(dc.metadata.annotations?.[OBSERVED_STREAMS_ANNOTATION] ?? '{}') as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? { ...(parsed as Record<string, string>) } : {};
  } catch {
    return {};
  }
}

/** True when `snapshot` is an earlier version of the same stream than `observed` (a stale read). */
function olderSnapshot(snapshot: string, observed: string | undefined): boolean {
  if (!observed) return false;
  const [uid, version] = snapshot.split('/');
  const [observedUid, observedVersion] = observed.split('/');
  return uid === observedUid && Number(version) < Number(observedVersion);
}
