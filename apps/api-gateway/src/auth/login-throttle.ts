import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ApiError } from '@paas/platform/api-error';
import { GATEWAY_SETTINGS, type GatewaySettings, type LoginThrottleSettings } from '../gateway-settings';
import { clientAddressKey } from './client-address';
import { LoginAttemptRepository, type LoginAttempt } from './login-attempt.repository';

/** Stale attempts are deleted this often (each replica; deleting twice is harmless). */
const SWEEP_INTERVAL_MS = 10 * 60_000;
/** Waits this replica knows of, kept at most. */
const KNOWN_WAITS_MAX = 10_000;
/** A check still "under way" after this long belongs to a gateway that died during it: it counts as failed. */
const PENDING_MAX_MS = 30_000;
/** What a client is told to wait while another check of the same user or address is under way. */
const BUSY_RETRY_MS = 1000;

/**
 * How long the next password attempt of one key must wait (ms; 0: it may go now), given the
 * times of the key's failed attempts: `free` go at once; from then on each must come
 * `base · 2^(n - free)` after the last one (n failures so far), at most `max`.
 */
export function waitBeforeNextAttempt(failures: readonly number[], free: number, settings: Pick<LoginThrottleSettings, 'basePenaltyMs' | 'maxPenaltyMs'>, now: number): number {
  const n = failures.length;
  if (n < free) return 0;
  let last = 0;
  for (const at of failures) if (at > last) last = at;
  const gap = Math.min(settings.basePenaltyMs * 2 ** (n - free), settings.maxPenaltyMs);
  return Math.max(0, last + gap - now);
}

/** What the caller of `begin` reports once the password was checked. */
export interface LoginTicket {
  /** The password was right: the attempt no longer counts. */
  succeeded(): Promise<void>;
  /** It was wrong: the attempt counts as a failure. */
  failed(): Promise<void>;
}

interface ThrottleKey {
  key: string;
  free: number;
}

/**
 * Rate-limits password checks per user name and per client address, across gateway
 * replicas. Every check is a document in the gateway's database from before the password is
 * compared: deleted when it was right, marked failed when not and then remembered for
 * `failureMemoryMs`. A key that has used its free failures must wait a doubling time after
 * its last failure; meanwhile every attempt, with the right password or not, is refused
 * with 429 and a Retry-After. Checks under way count against the free failures too, and past
 * them only one check of a key may be under way: a burst of parallel guesses gets no more
 * than sequential ones.
 *
 * The one shortcut: a wait this replica has seen is refused from memory until it ends.
 * Waits only ever end by time, so this refuses nothing the database would allow.
 */
@Injectable()
export class LoginThrottle implements OnModuleInit, OnModuleDestroy {
  private readonly settings: LoginThrottleSettings;
  /** key → the time before which it must wait. */
  private readonly knownWaits = new Map<string, number>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly attempts: LoginAttemptRepository,
    @Inject(GATEWAY_SETTINGS) settings: GatewaySettings,
  ) {
    this.settings = settings.login;
  }

  onModuleInit() {
    this.sweeper = setInterval(() => void this.attempts.forgetBefore(Date.now() - this.settings.failureMemoryMs).catch(() => undefined), SWEEP_INTERVAL_MS).unref();
  }

  onModuleDestroy() {
    clearInterval(this.sweeper);
  }

  /** For a password already known to be right: it too waits out a penalty (429). */
  async assertMayTry(user: string, address: string | undefined): Promise<void> {
    const keys = this.keysOf(user, address);
    const now = Date.now();
    this.refuseKnownWait(keys, now);
    const attempts = await this.attempts.list(keys.map((k) => k.key), now - this.settings.failureMemoryMs);
    this.refuseWhileWaiting(keys, attempts, now, false);
  }

  /** Before a password is checked: the attempt counts at once; refused (429, and then not counted) while the user or the address must wait. */
  async begin(user: string, address: string | undefined): Promise<LoginTicket> {
    const keys = this.keysOf(user, address);
    const now = Date.now();
    this.refuseKnownWait(keys, now);
    const mine = (await Promise.all(keys.map((k) => this.attempts.add(k.key, now)))).map((attempt) => attempt.id);
    try {
      const others = (await this.attempts.list(keys.map((k) => k.key), now - this.settings.failureMemoryMs)).filter((attempt) => !mine.includes(attempt.id));
      this.refuseWhileWaiting(keys, others, now, true);
      return {
        succeeded: () => this.attempts.remove(mine),
        failed: async () => {
          await this.attempts.markFailed(mine);
          for (const { key, free } of keys) this.remember(key, now + waitBeforeNextAttempt([...this.failuresOf(key, others, now), now], free, this.settings, now));
        },
      };
    } catch (error) {
      await this.attempts.remove(mine).catch(() => undefined);
      throw error;
    }
  }

  private keysOf(user: string, address: string | undefined): ThrottleKey[] {
    // A user name is whatever the client put in its Basic header: a long one is counted by its hash.
    const name = user.length <= 253 ? user : `sha256:${createHash('sha256').update(user).digest('hex')}`;
    return [
      { key: `user:${name}`, free: this.settings.freeFailuresPerUser },
      { key: `address:${clientAddressKey(address)}`, free: this.settings.freeFailuresPerAddress },
    ];
  }

  /** The times of the key's failures; a check under way for too long failed with its gateway. */
  private failuresOf(key: string, attempts: LoginAttempt[], now: number): number[] {
    return attempts.filter((a) => a.key === key && (a.failed || now - a.at > PENDING_MAX_MS)).map((a) => a.at);
  }

  private refuseKnownWait(keys: ThrottleKey[], now: number): void {
    const until = Math.max(0, ...keys.map(({ key }) => this.knownWaits.get(key) ?? 0));
    if (until > now) throw tooManyAttempts(until - now);
  }

  /**
   * Refuses while a key must wait after its failures; for a new check (`counting`) also while
   * checks under way would, if they failed, use up its free failures or the one slot past them.
   */
  private refuseWhileWaiting(keys: ThrottleKey[], attempts: LoginAttempt[], now: number, counting: boolean): void {
    let longest = 0;
    for (const { key, free } of keys) {
      const failures = this.failuresOf(key, attempts, now);
      const wait = waitBeforeNextAttempt(failures, free, this.settings, now);
      this.remember(key, now + wait);
      const underWay = attempts.filter((a) => a.key === key).length - failures.length;
      const busy = counting && underWay > 0 && failures.length + underWay >= free ? BUSY_RETRY_MS : 0;
      longest = Math.max(longest, wait, busy);
    }
    if (longest > 0) throw tooManyAttempts(longest);
  }

  private remember(key: string, until: number): void {
    const now = Date.now();
    if (until <= now) return;
    if (this.knownWaits.size >= KNOWN_WAITS_MAX) {
      for (const [known, end] of this.knownWaits) if (end <= now) this.knownWaits.delete(known);
      if (this.knownWaits.size >= KNOWN_WAITS_MAX) this.knownWaits.delete(this.knownWaits.keys().next().value as string);
    }
    this.knownWaits.set(key, Math.max(until, this.knownWaits.get(key) ?? 0));
  }
}

function tooManyAttempts(waitMs: number): ApiError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return ApiError.of('TooManyRequests', `too many failed password checks for this user or from this address: try again in ${retryAfterSeconds} s (API tokens are not limited)`, {
    retryAfterSeconds,
  });
}
