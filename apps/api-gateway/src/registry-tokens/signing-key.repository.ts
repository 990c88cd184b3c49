import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Schema, type Model } from 'mongoose';
import { generateSigningKey, signingKeyFromPem, type SigningKey } from '@paas/platform/jwt';

export const SIGNING_KEYS_COLLECTION = 'signingkeys';
/** One key signs every registry token; every gateway replica (and restart) uses the same. */
const REGISTRY_KEY_ID = 'registry-token';

interface StoredSigningKey {
  _id: string;
  kid: string;
  privateKeyPem: string;
  createdAt: string;
}

export const signingKeySchema = new Schema<StoredSigningKey>(
  {
    _id: { type: String, required: true },
    kid: { type: String, required: true },
    privateKeyPem: { type: String, required: true },
    createdAt: { type: String, required: true },
  },
  { collection: SIGNING_KEYS_COLLECTION, versionKey: false },
);

/** The registry-token signing key pair, made on the first start and kept in the gateway's database. */
@Injectable()
export class SigningKeyRepository {
  constructor(@InjectModel(SIGNING_KEYS_COLLECTION) private readonly model: Model<StoredSigningKey>) {}

  async loadOrCreate(): Promise<SigningKey> {
    const stored = await this.model.findById(REGISTRY_KEY_ID).lean<StoredSigningKey>().exec();
    if (stored) return signingKeyFromPem(stored.privateKeyPem);
    const { privateKeyPem, key } = generateSigningKey();
    try {
      await this.model.create({ _id: REGISTRY_KEY_ID, kid: key.kid, privateKeyPem, createdAt: new Date().toISOString() });
      return key;
    } catch (error) {
      // Another replica made one first: everyone uses that one.
      if ((error as { code?: number }).code !== 11000) throw error;
      const winner = await this.model.findById(REGISTRY_KEY_ID).lean<StoredSigningKey>().exec();
      if (!winner) throw error;
      return signingKeyFromPem(winner.privateKeyPem);
    }
  }
}
