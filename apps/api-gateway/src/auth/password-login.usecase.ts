import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { statusOf } from '@paas/platform/api-error';
import type { FastifyRequest } from 'fastify';
import { AuditTrail } from '../audit/audit-trail';
import { PasswordRepository } from '../users/user.repository';
import { LoginThrottle } from './login-throttle';
import { hashPassword, verifyPassword } from './password-hash';

/**
 * A checked password is trusted this long without scrypt again (clients send Basic on every
 * call), as long as the user's stored hash is still the one it was checked against: a
 * changed password (on any replica) or a deleted user ends the trust at once.
 */
const VERIFIED_PASSWORD_TTL_MS = 60_000;
const VERIFIED_PASSWORDS_MAX = 1_000;

/** What the caller sent, for the throttle (its address) and the audit trail. */
export type LoginRequest = Pick<FastifyRequest, 'ip' | 'method' | 'url'>;

/**
 * Whether a password is the user's: throttled per user and per client address (429 during a
 * penalty, the right password too), each failed or refused request written to the audit
 * trail. An unknown user costs the same scrypt as a known one, so the time of the answer
 * does not tell which user names exist. Requests with the same user and password while one
 * of them is being checked wait for that check (a client's parallel calls are one login, not a
 * burst of attempts the throttle would refuse).
 */
@Injectable()
export class PasswordLogin {
  /** sha256(user, password) → the stored hash it matched, and until when; never the password itself. */
  private readonly verified = new Map<string, { hash: string; until: number }>();
  /** sha256(user, password) → its check under way in this replica. */
  private readonly checking = new Map<string, Promise<boolean>>();
  private unknownUserHash?: Promise<string>;

  constructor(
    private readonly passwords: PasswordRepository,
    private readonly throttle: LoginThrottle,
    private readonly trail: AuditTrail,
  ) {}

  async check(user: string, password: string, request: LoginRequest): Promise<boolean> {
    try {
      const key = createHash('sha256').update(user).update('\0').update(password).digest('hex');
      const known = this.verified.get(key);
      if (known && known.until > Date.now()) {
        const [, hash] = await Promise.all([this.throttle.assertMayTry(user, request.ip), this.passwords.hashOf(user)]);
        if (hash === known.hash) return true;
      }
      this.verified.delete(key);
      let check = this.checking.get(key);
      if (!check) {
        check = this.compare(key, user, password, request.ip).finally(() => this.checking.delete(key));
        this.checking.set(key, check);
      }
      if (await check) return true;
      await this.trail.recordLogin(request as FastifyRequest, { user, statusCode: 401, reason: 'LoginFailed' });
      return false;
    } catch (error) {
      if (statusOf(error).code === 429) await this.trail.recordLogin(request as FastifyRequest, { user, statusCode: 429, reason: 'LoginThrottled' });
      throw error;
    }
  }

  /** One throttled comparison with the stored hash; a right password is remembered. */
  private async compare(key: string, user: string, password: string, address: string): Promise<boolean> {
    const ticket = await this.throttle.begin(user, address);
    const hash = await this.passwords.hashOf(user);
    if (await this.matches(password, hash)) {
      await ticket.succeeded();
      this.remember(key, hash as string);
      return true;
    }
    await ticket.failed();
    return false;
  }

  private async matches(password: string, hash: string | undefined): Promise<boolean> {
    if (hash) return verifyPassword(password, hash);
    this.unknownUserHash ??= hashPassword(randomBytes(16).toString('base64url'));
    await verifyPassword(password, await this.unknownUserHash);
    return false;
  }

  private remember(key: string, hash: string): void {
    if (this.verified.size >= VERIFIED_PASSWORDS_MAX) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(key, { hash, until: Date.now() + VERIFIED_PASSWORD_TTL_MS });
  }
}
