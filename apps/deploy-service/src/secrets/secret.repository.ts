import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { Resource } from '@paas/contracts/meta';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const SECRETS_COLLECTION = 'secrets';

export interface SealedSecret {
  type: string;
  immutable?: boolean;
  /** The data (`key → base64`), encrypted (SecretCipher): neither the database nor the change feed on the bus holds it in the clear. */
  sealed: string;
}

/** How a Secret sits in storage, and in the deploy-service's cache: sealed. */
export type SecretRecord = Resource<'Secret', SealedSecret, Record<string, never>>;

@Injectable()
export class SecretRepository extends ResourceRepository<SecretRecord> {
  constructor(@InjectModel(SECRETS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'Secret');
  }
}
