import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Schema, type Model } from 'mongoose';

export const API_TOKENS_COLLECTION = 'apitokens';

/** Whose a token is: a user's (`POST /api/v1/tokens`) or a service account's. */
export type TokenOwner = { kind: 'User'; user: string } | { kind: 'ServiceAccount'; namespace: string; serviceAccount: string };

/** A token as stored: only its sha256, never the token. Tokens made before lifetimes were bounded may lack `expiresAt`. */
export type ApiToken = TokenOwner & { hash: string; createdAt: string; expiresAt?: string; lastUsedAt?: string };

interface StoredToken {
  _id: string;
  kind: TokenOwner['kind'];
  user?: string;
  namespace?: string;
  serviceAccount?: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

export const apiTokenSchema = new Schema<StoredToken>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    user: { type: String },
    namespace: { type: String },
    serviceAccount: { type: String },
    createdAt: { type: String, required: true },
    expiresAt: { type: String },
    lastUsedAt: { type: String },
  },
  { collection: API_TOKENS_COLLECTION, versionKey: false },
);
apiTokenSchema.index({ user: 1 });
apiTokenSchema.index({ namespace: 1, serviceAccount: 1 });

@Injectable()
export class ApiTokenRepository {
  constructor(@InjectModel(API_TOKENS_COLLECTION) private readonly model: Model<StoredToken>) {}

  async add(token: ApiToken): Promise<void> {
    const { hash, ...rest } = token;
    await this.model.create({ _id: hash, ...rest });
  }

  async findByHash(hash: string): Promise<ApiToken | undefined> {
    const stored = await this.model.findById(hash).lean<StoredToken>().exec();
    return stored ? apiTokenOf(stored) : undefined;
  }

  /** The tokens of one owner, oldest first. */
  async listOf(owner: TokenOwner): Promise<ApiToken[]> {
    const filter = owner.kind === 'User' ? { kind: 'User', user: owner.user } : { kind: 'ServiceAccount', namespace: owner.namespace, serviceAccount: owner.serviceAccount };
    const found = await this.model.find(filter).sort({ createdAt: 1 }).lean<StoredToken[]>().exec();
    return found.map(apiTokenOf);
  }

  /** When the token was last used (a write at most every few minutes: see Authenticator). */
  async touch(hash: string, at: Date): Promise<void> {
    await this.model.updateOne({ _id: hash }, { $set: { lastUsedAt: at.toISOString() } }).exec();
  }

  /** Tokens whose time is over (ISO times compare as strings). */
  async deleteExpired(now: Date): Promise<void> {
    await this.model.deleteMany({ expiresAt: { $lt: now.toISOString() } }).exec();
  }

  async delete(hash: string): Promise<void> {
    await this.model.deleteOne({ _id: hash }).exec();
  }

  async deleteOfUser(user: string): Promise<void> {
    await this.model.deleteMany({ kind: 'User', user }).exec();
  }

  /** The tokens of one service account, or (without `serviceAccount`) of every one in the namespace. */
  async deleteOfServiceAccounts(namespace: string, serviceAccount?: string): Promise<void> {
    await this.model.deleteMany({ kind: 'ServiceAccount', namespace, ...(serviceAccount ? { serviceAccount } : {}) }).exec();
  }
}

function apiTokenOf(stored: StoredToken): ApiToken {
  const { _id, kind, user, namespace, serviceAccount, createdAt, expiresAt, lastUsedAt } = stored;
  const owner: TokenOwner = kind === 'User' ? { kind, user: user ?? '' } : { kind: 'ServiceAccount', namespace: namespace ?? '', serviceAccount: serviceAccount ?? '' };
  return { ...owner, hash: _id, createdAt, ...(expiresAt ? { expiresAt } : {}), ...(lastUsedAt ? { lastUsedAt } : {}) };
}
