import { Inject, Injectable } from '@nestjs/common';
import type { DeploymentConfig, DeploymentLog, DeploymentLogOptions, DeploymentPhase } from '@paas/contracts/deployments';
import type { GetRequest } from '@paas/contracts/rpc';
import { ApiError } from '@paas/platform/api-error';
import { z } from 'zod';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import type { Store } from '../store';
import { DeploymentConfigRepository } from './deploymentconfig.repository';
import { Revisions, revisionPhase } from './revisions';
import { endsRollout, RolloutLogRepository, type RolloutLogLine } from './rollout-log';
import { rolloutEnded } from './rollout-plan';

/**
 * The controller writes a step's line just after the RC write that ends the revision: a log
 * whose last line is not an ending, of a revision that has ended, is taken as complete this
 * long after that line (its writer died between the two writes).
 */
const UNENDED_LOG_GRACE_MS = 5_000;

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
 * reads again from `nextOffset` until the log is `complete`: it ends with how the rollout
 * ended (not merely the revision's phase, which is written a moment before that line).
 */
@Injectable()
export class DeploymentLogs {
  constructor(
    @Inject(DeploymentConfigRepository) private readonly dcs: Pick<Store<DeploymentConfig>, 'get'>,
    @Inject(Revisions) private readonly revisions: Pick<Revisions, 'find'>,
    @Inject(RolloutLogRepository) private readonly logs: Pick<RolloutLogRepository, 'read'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: Pick<DeploySettings, 'now'>,
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
    const phase = revisionPhase(rc);
    return { log: text, version, nextOffset: Math.max(from, lines.length), phase, complete: this.complete(phase, lines.at(-1)) };
  }

  private complete(phase: DeploymentPhase, last: RolloutLogLine | undefined): boolean {
    const ended = rolloutEnded(phase);
    // No line at all: a revision rolled out before there were rollout logs.
    if (!last) return ended;
    return endsRollout(last.text) || (ended && this.settings.now() - Date.parse(last.time) > UNENDED_LOG_GRACE_MS);
  }
}
