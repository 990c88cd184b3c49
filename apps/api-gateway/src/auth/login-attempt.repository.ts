import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';

export const LOGIN_ATTEMPTS_COLLECTION = 'loginattempts';

/** A password check under way or failed, for one throttle key (`user:<name>` or `address:<ip>`). */
export interface LoginAttempt {
  id: string;
  key: string;
  /** Epoch milliseconds. */
  at: number;
  /** The password was wrong; until then the check is under way. */
  failed: boolean;
}

interface StoredAttempt {
  _id: string;
  key: string;
  at: number;
  failed: boolean;
}

export const loginAttemptSchema = new Schema<StoredAttempt>(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    at: { type: Number, required: true },
    failed: { type: Boolean, required: true },
  },
  { collection: LOGIN_ATTEMPTS_COLLECTION, versionKey: false },
);
loginAttemptSchema.index({ key: 1 });

/**
 * One document per attempt, inserted by the request that makes it and changed by that request
 * alone (failed, or deleted): counting by documents needs no read-modify-write of a shared
 * counter, which FerretDB 1.24 does not make atomic (two concurrent `$inc`s, or two updates
 * filtered on the same version, both "succeed" and one is lost; FerretDB#3040). So the count
 * holds across gateway replicas and under a burst of parallel guesses.
 */
@Injectable()
export class LoginAttemptRepository {
  constructor(@InjectModel(LOGIN_ATTEMPTS_COLLECTION) private readonly model: Model<StoredAttempt>) {}

  async add(key: string, at: number): Promise<LoginAttempt> {
    const id = randomUUID();
    await this.model.create({ _id: id, key, at, failed: false });
    return { id, key, at, failed: false };
  }

  /** The attempts of these keys since `since`. */
  async list(keys: string[], since: number): Promise<LoginAttempt[]> {
    const found = await this.model.find({ key: { $in: keys }, at: { $gte: since } }).lean<StoredAttempt[]>().exec();
    return found.map(({ _id, key, at, failed }) => ({ id: _id, key, at, failed }));
  }

  async markFailed(ids: string[]): Promise<void> {
    await this.model.updateMany({ _id: { $in: ids } }, { $set: { failed: true } }).exec();
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length) await this.model.deleteMany({ _id: { $in: ids } }).exec();
  }

  /** Attempts too old to count any more. */
  async forgetBefore(before: number): Promise<void> {
    await this.model.deleteMany({ at: { $lt: before } }).exec();
  }
}
