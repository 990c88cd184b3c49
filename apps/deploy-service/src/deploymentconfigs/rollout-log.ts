import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Schema, type Model } from 'mongoose';
import type { DeploymentConfigSpec } from '@paas/contracts/deployments';
import { rollingBounds, type RolloutFailure } from './rollout-plan';

export const ROLLOUTLOGS_COLLECTION = 'rolloutlogs';

/** A revision's RC and its replicas: what a rollout step changed them from and to. */
export interface ScaledRevision {
  name: string;
  from: number;
  to: number;
}

/** A revision's RC and the replicas it was asked for when the newest revision started. */
export interface StartingRevision {
  name: string;
  replicas: number;
}

/**
 * What one step of a rollout says in the newest revision's log, in the words of OpenShift's
 * deployer (`oc logs dc/<name>`): the strategy's plan when the revision starts (`started`,
 * with every revision's replicas before it), each RC whose replicas change, and how it ended.
 */
export function rolloutLogLines(
  spec: Pick<DeploymentConfigSpec, 'replicas' | 'strategy'>,
  step: { latest: string; started?: StartingRevision[]; scaled: ScaledRevision[]; rolled?: boolean; failure?: RolloutFailure },
): string[] {
  const lines = step.started ? [startLine(spec, step.latest, step.started)] : [];
  for (const { name, from, to } of step.scaled) lines.push(`    Scaling ${name} ${to > from ? 'up' : 'down'} to ${to}`);
  if (step.failure) lines.push(`--> ${step.failure.reason === 'RolloutCancelled' ? 'Cancelled' : `Failed (${step.failure.reason})`}: ${step.failure.message}`);
  else if (step.rolled) lines.push('--> Success');
  return lines;
}

/** Whether a line is the last a rollout writes: how it ended. */
export function endsRollout(text: string): boolean {
  return /^--> (Success|Failed|Cancelled)\b/.test(text);
}

function startLine(spec: Pick<DeploymentConfigSpec, 'replicas' | 'strategy'>, latest: string, revisions: StartingRevision[]): string {
  const from = revisions.find((r) => r.name === latest)?.replicas ?? 0;
  const older = revisions.filter((r) => r.name !== latest && r.replicas > 0);
  if (spec.strategy.type === 'Recreate') {
    const down = older.length ? `scaling ${older.map((r) => r.name).join(', ')} down to zero, then ` : '';
    return `--> Recreate: ${down}scaling ${latest} up to ${spec.replicas}`;
  }
  const { maxSurge, maxUnavailable } = rollingBounds(spec);
  const downs = older.map((r) => `, scaling down ${r.name} from ${r.replicas} to 0`).join('');
  return `--> Scaling up ${latest} from ${from} to ${spec.replicas}${downs} (keep ${Math.max(0, spec.replicas - maxUnavailable)} pods available, don't exceed ${spec.replicas + maxSurge} pods)`;
}

export interface RolloutLogLine {
  time: string;
  text: string;
}

/** One revision's log, under its RC's uid: a DC deleted and made again under the same name starts afresh. */
interface StoredRolloutLog {
  _id: string;
  namespace: string;
  deploymentConfig: string;
  lines: RolloutLogLine[];
}

export const rolloutLogSchema = new Schema<StoredRolloutLog>(
  {
    _id: { type: String, required: true },
    namespace: { type: String, required: true },
    deploymentConfig: { type: String, required: true },
    lines: { type: [{ _id: false, time: String, text: String }], default: [] },
  },
  { collection: ROLLOUTLOGS_COLLECTION, versionKey: false },
);

/**
 * The rollout logs, written by the DC controller only while a revision rolls out (a rollout
 * has a bounded number of steps, so a log does not grow once it is over) and removed with the
 * revision or its DC.
 */
@Injectable()
export class RolloutLogRepository {
  constructor(@InjectModel(ROLLOUTLOGS_COLLECTION) private readonly model: Model<StoredRolloutLog>) {}

  async append(revision: { uid: string; namespace: string; deploymentConfig: string }, lines: string[], time: string): Promise<void> {
    const { uid, namespace, deploymentConfig } = revision;
    await this.model.updateOne({ _id: uid }, { $setOnInsert: { namespace, deploymentConfig }, $push: { lines: { $each: lines.map((text) => ({ time, text })) } } }, { upsert: true }).exec();
  }

  async read(uid: string): Promise<RolloutLogLine[]> {
    const stored = await this.model.findById(uid, { lines: 1 }).lean<Pick<StoredRolloutLog, 'lines'>>().exec();
    return stored?.lines ?? [];
  }

  async remove(uid: string): Promise<void> {
    await this.model.deleteOne({ _id: uid }).exec();
  }

  /** Every log of the DC `name` (it was deleted). */
  async removeAllOf(namespace: string, name: string): Promise<void> {
    await this.model.deleteMany({ namespace, deploymentConfig: name }).exec();
  }
}

/** What the DC controller writes through; unit tests pass an in-memory one. */
export type RolloutLogWriter = Pick<RolloutLogRepository, 'append' | 'remove' | 'removeAllOf'>;
