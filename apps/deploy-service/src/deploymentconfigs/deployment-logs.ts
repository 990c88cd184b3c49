import { Inject, Injectable } from '@nestjs/common';
import type { DeploymentConfig, DeploymentLog, DeploymentLogOptions } from '@paas/contracts/deployments';
import type { GetRequest } from '@paas/contracts/rpc';
import { ApiError } from '@paas/platform/api-error';
import { z } from 'zod';
import type { Store } from '../store';
import { DeploymentConfigRepository } from './deploymentconfig.repository';
import { Revisions, revisionPhase } from './revisions';
import { RolloutLogRepository } from './rollout-log';

const logRequest = z
  .object({
    version: z.number().int().min(1).optional(),
    tailLines: z.number().int().min(0).max(100_000).optional(),
    timestamps: z.boolean().optional(),
    offset: z.number().int().min(0).optional(),
  })
  .strict();

/**
 * `GET deploymentconfigs/{name}/log` (`oc logs dc/<name>`): what the rollout of a revision (the
 * newest unless `version` says) did, step by step, as the DC controller wrote it. A follower
 * reads again from `nextOffset` until the revision is Complete or Failed.
 */
@Injectable()
export class DeploymentLogs {
  constructor(
    @Inject(DeploymentConfigRepository) private readonly dcs: Pick<Store<DeploymentConfig>, 'get'>,
    @Inject(Revisions) private readonly revisions: Pick<Revisions, 'find'>,
    @Inject(RolloutLogRepository) private readonly logs: Pick<RolloutLogRepository, 'read'>,
  ) {}

  async read({ namespace, name, ...query }: GetRequest & DeploymentLogOptions & { offset?: number }): Promise<DeploymentLog> {
    const parsed = logRequest.safeParse(query);
    if (!parsed.success) {
      const [issue] = parsed.error.issues;
      throw ApiError.invalid('DeploymentLogOptions', name, issue.path.join('.') || 'query', issue.message);
    }
    const { version: asked, tailLines, timestamps, offset } = parsed.data;
    const dc = await this.dcs.get(namespace, name);
    const version = asked ?? dc.status.latestVersion;
    if (version === 0) throw ApiError.of('BadRequest', `deploymentconfig "${name}" has no revision yet: nothing has rolled out`);
    const rc = await this.revisions.find(dc, version);
    if (!rc) throw ApiError.of('NotFound', `deploymentconfig "${name}" has no revision ${version} (the newest is ${dc.status.latestVersion}; older ones beyond revisionHistoryLimit are pruned)`);
    const lines = await this.logs.read(rc.metadata.uid);
    const from = offset ?? (tailLines !== undefined ? Math.max(0, lines.length - tailLines) : 0);
    const text = lines
      .slice(from)
      .map((line) => (timestamps ? `${line.time} ${line.text}\n` : `${line.text}\n`))
      .join('');
    return { log: text, version, nextOffset: Math.max(from, lines.length), phase: revisionPhase(rc) };
  }
}
