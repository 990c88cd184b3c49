import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { ensureSecretFile } from '@paas/platform/secret-file';
import { SettingError } from '@paas/platform/bus-settings';

/** Under PAAS_HOME: the key Secrets are encrypted with, made on the first start (base64 of 32 random bytes). */
export const SECRETS_KEY_FILE = 'secrets/encryption-key';

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export const SECRET_CIPHER = Symbol('SECRET_CIPHER');

/** A sealed value cannot be opened: another key sealed it, or it was changed. */
export class SecretUnreadableError extends Error {}

/**
 * Seals a Secret's data for storage, as Kubernetes' `aescbc`/`aesgcm` encryption providers
 * do: AES-256-GCM with a fresh nonce per write, the object's `<namespace>/<name>` as
 * associated data (a sealed value moved to another Secret does not open), and the key's id in
 * front (`<id>:<base64 nonce|tag|ciphertext>`), so that a store read with the wrong key says so.
 */
export class SecretCipher {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== KEY_BYTES) throw new SettingError(`the Secrets encryption key must be ${KEY_BYTES} bytes, base64; it is ${key.length}`);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /** `data` of Secret `namespace/name` sealed: it opens only under that name. */
  seal(data: Record<string, string>, namespace: string, name: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, nonce).setAAD(ownerOf(namespace, name));
    const sealed = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
    return `${this.keyId}:${Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString('base64')}`;
  }

  open(sealed: string, namespace: string, name: string): Record<string, string> {
    const [keyId, body = ''] = sealed.split(':', 2);
    if (keyId !== this.keyId) throw new SecretUnreadableError(`it was encrypted with key ${keyId}, and this deploy-service has key ${this.keyId} (${SECRETS_KEY_FILE} under PAAS_HOME, or PAAS_SECRETS_KEY)`);
    const bytes = Buffer.from(body, 'base64');
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, bytes.subarray(0, NONCE_BYTES)).setAAD(ownerOf(namespace, name));
      decipher.setAuthTag(bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
      const plain = Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Record<string, string>;
    } catch {
      throw new SecretUnreadableError('its stored data does not decrypt: it was changed in the database, or moved from another Secret');
    }
  }
}

function ownerOf(namespace: string, name: string): Buffer {
  return Buffer.from(`${namespace}/${name}`);
}

/** `PAAS_SECRETS_KEY` (base64), else the key file under PAAS_HOME, made when missing; every replica reads the same one. */
export function loadSecretCipher(env: NodeJS.ProcessEnv = process.env): SecretCipher {
  const encoded = env.PAAS_SECRETS_KEY || ensureSecretFile(path.join(loadConfig(env).home, SECRETS_KEY_FILE), () => `${randomBytes(KEY_BYTES).toString('base64')}\n`);
  return new SecretCipher(Buffer.from(encoded.trim(), 'base64'));
}
