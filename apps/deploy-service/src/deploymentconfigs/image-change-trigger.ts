import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DeploymentConfig } from '@paas/contracts/deployments';
import type { ImageStream } from '@paas/contracts/images';
import { ApiError } from '@paas/platform/api-error';
import { RpcClient } from '@paas/platform/rpc';
import type { Store } from '../store';
import { DeploymentConfigRepository } from './deploymentconfig.repository';
import { Revisions } from './revisions';
import { applyTriggeredImage, imageChangeTriggers } from './triggers';

/**
 * ImageChange triggers: the tag's current image is read from the registry-service (never
 * from an event's payload); a trigger whose `lastTriggeredImage` differs gets the new image
 * into its containers and a new revision, in one write of the DC. Idempotent: a second run
 * finds `lastTriggeredImage` already equal and does nothing.
 */
@Injectable()
export class ImageChangeTriggerController {
  private readonly logger = new Logger(ImageChangeTriggerController.name);

  constructor(
    @Inject(DeploymentConfigRepository) private readonly dcs: Store<DeploymentConfig>,
    @Inject(RpcClient) private readonly rpc: Pick<RpcClient, 'request'>,
    @Inject(Revisions) private readonly revisions: Pick<Revisions, 'ensureLatest'>,
  ) {}

  /** An ImageStream tag moved: every automatic trigger on it in that namespace is checked. */
  async imageStreamUpdated(namespace: string, imageStream: string, tag: string): Promise<void> {
    const from = `${imageStream}:${tag}`;
    for (const dc of await this.dcs.list({ namespace })) {
      if (imageChangeTriggers(dc.spec).some((t) => t.imageChangeParams.automatic && t.imageChangeParams.from.name === from)) {
        await this.resolve(dc, [from]);
      }
    }
  }

  /** Checks the DC's automatic triggers (all, or those from `only`) against the registry. */
  async resolve(dc: DeploymentConfig, only?: string[]): Promise<DeploymentConfig> {
    const { namespace, name } = dc.metadata;
    const current = new Map<string, string>();
    for (const trigger of imageChangeTriggers(dc.spec)) {
      const from = trigger.imageChangeParams.from.name;
      if (!trigger.imageChangeParams.automatic || (only && !only.includes(from)) || current.has(from)) continue;
      const image = await this.currentImage(namespace, from);
      if (image) current.set(from, image);
    }
    let triggeredBy: string | undefined;
    const updated = await this.dcs.update(namespace, name, (latest) => {
      let spec = latest.spec;
      const changed: string[] = [];
      for (const trigger of imageChangeTriggers(latest.spec)) {
        const from = trigger.imageChangeParams.from.name;
        const image = current.get(from);
        if (!trigger.imageChangeParams.automatic || !image || trigger.imageChangeParams.lastTriggeredImage === image) continue;
        spec = applyTriggeredImage(spec, from, image);
        changed.push(`image change: ${from} → ${image}`);
      }
      if (!changed.length) return undefined;
      triggeredBy = changed.join('; ');
      return { ...latest, spec, status: { ...latest.status, latestVersion: latest.status.latestVersion + 1 } };
    });
    if (triggeredBy) {
      this.logger.log({ msg: `deploymentconfig ${namespace}/${name} revision ${updated.status.latestVersion}: ${triggeredBy}` });
      await this.revisions.ensureLatest(updated, triggeredBy);
    }
    return updated;
  }

  /** `items[0].dockerImageReference` of the tag, or undefined while the stream or tag does not exist. */
  private async currentImage(namespace: string, from: string): Promise<string | undefined> {
    const [stream, tag] = from.split(':');
    let imageStream: ImageStream;
    try {
      imageStream = await this.rpc.request('imagestreams.get', { namespace, name: stream });
    } catch (error) {
      if (error instanceof ApiError && error.status.code === 404) return undefined;
      throw error;
    }
    return imageStream.status?.tags?.find((t) => t.tag === tag)?.items?.[0]?.dockerImageReference;
  }
}
