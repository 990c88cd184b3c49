import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Schema, type Model } from 'mongoose';
import type { User } from '@paas/contracts/auth';
import { upsertById } from '@paas/platform/mongo';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const USERS_COLLECTION = 'users';
export const PASSWORDS_COLLECTION = 'passwords';

@Injectable()
export class UserRepository extends ResourceRepository<User> {
  constructor(@InjectModel(USERS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'User');
  }
}

/** A user's password hash, kept apart from the User resource so no read of a user can carry it. */
interface StoredPassword {
  _id: string;
  hash: string;
}

export const passwordSchema = new Schema<StoredPassword>({ _id: { type: String, required: true }, hash: { type: String, required: true } }, { collection: PASSWORDS_COLLECTION, versionKey: false });

@Injectable()
export class PasswordRepository {
  constructor(@InjectModel(PASSWORDS_COLLECTION) private readonly model: Model<StoredPassword>) {}

  async set(user: string, hash: string): Promise<void> {
    // Replicas starting together each set the bootstrap admin's password.
    await upsertById(this.model, user, { $set: { hash } });
  }

  async hashOf(user: string): Promise<string | undefined> {
    return (await this.model.findById(user).lean<StoredPassword>().exec())?.hash;
  }

  async delete(user: string): Promise<void> {
    await this.model.deleteOne({ _id: user }).exec();
  }
}
