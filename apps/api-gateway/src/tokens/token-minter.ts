import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { API_TOKEN_PREFIX } from '@paas/contracts/auth';
import { ApiTokenRepository, type TokenOwner } from './api-token.repository';

const TOKEN_BYTES = 32;
const TOKEN_PATTERN = new RegExp(`^${API_TOKEN_PREFIX}[A-Za-z0-9_-]{43}$`);

/** Tokens are looked up by their sha256: a leaked database holds no usable token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether `value` has the shape of one of our tokens (so a Basic password of that shape is tried as one). */
export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/** Makes API and service-account tokens: `paas_<32 random bytes>`, shown once, stored hashed. */
@Injectable()
export class TokenMinter {
  constructor(private readonly tokens: ApiTokenRepository) {}

  async mint(owner: TokenOwner, expiresInSeconds: number): Promise<{ token: string; hash: string; expiresAt: string }> {
    const token = `${API_TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
    const now = Date.now();
    const expiresAt = new Date(now + expiresInSeconds * 1000).toISOString();
    const hash = hashToken(token);
    await this.tokens.add({ ...owner, hash, createdAt: new Date(now).toISOString(), expiresAt });
    // Expired tokens are refused when used; the ones never used again go here.
    await this.tokens.deleteExpired(new Date(now));
    return { token, hash, expiresAt };
  }
}
