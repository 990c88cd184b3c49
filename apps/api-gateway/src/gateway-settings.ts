/** How the gateway is tuned, from its environment; the defaults suit one small cluster. */
export interface GatewaySettings {
  /** Origins (`scheme://host[:port]`) whose pages may call the API from a browser (`PAAS_CORS_ORIGINS`, comma-separated); none by default. */
  corsOrigins: string[];
  login: LoginThrottleSettings;
  tokens: TokenLifetimeSettings;
  events: EventSettings;
  /** The largest upload of a Binary build (`PAAS_BINARY_MAX_BYTES`, 100 MiB): more is a 413. */
  binaryMaxBytes: number;
}

/** Password checks per user and per client address: a few failures are free, then each costs a growing wait. */
export interface LoginThrottleSettings {
  /** Failed password checks of one user name before the next must wait. */
  freeFailuresPerUser: number;
  /** Failed password checks from one client address (any user names) before the next must wait. */
  freeFailuresPerAddress: number;
  /** The first wait; every further failure doubles it... */
  basePenaltyMs: number;
  /** ...up to this. */
  maxPenaltyMs: number;
  /** Failures are forgotten once none came for this long. */
  failureMemoryMs: number;
}

export interface TokenLifetimeSettings {
  /** A user's API token lives this long unless `expiresInSeconds` asks otherwise. */
  defaultSeconds: number;
  /** No API or service-account token lives longer (asking for more is a 422); service-account tokens without `expiresInSeconds` get this. */
  maxSeconds: number;
}

/** Kubernetes Events (events/): how long one is kept and counted. */
export interface EventSettings {
  /**
   * An Event is removed this long after its last occurrence (`PAAS_EVENT_TTL_SECONDS`, one
   * hour, as Kubernetes' `--event-ttl`); until then, occurrences of the same kind are counted
   * on it. Occurrences older than this when they arrive are not recorded.
   */
  ttlMs: number;
  /** How often each replica removes expired Events: a twelfth of the TTL, at most every 5 minutes. */
  pruneIntervalMs: number;
}

export const GATEWAY_SETTINGS = Symbol('GATEWAY_SETTINGS');

export function loadGatewaySettings(env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const maxSeconds = numberFrom(env.PAAS_TOKEN_MAX_LIFETIME_SECONDS, 30 * 24 * 3600, 60);
  const ttlMs = numberFrom(env.PAAS_EVENT_TTL_SECONDS, 3600, 1) * 1000;
  return {
    corsOrigins: (env.PAAS_CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim().replace(/\/+$/, ''))
      .filter(Boolean),
    login: {
      freeFailuresPerUser: numberFrom(env.PAAS_LOGIN_FREE_FAILURES_PER_USER, 5),
      freeFailuresPerAddress: numberFrom(env.PAAS_LOGIN_FREE_FAILURES_PER_ADDRESS, 20),
      basePenaltyMs: numberFrom(env.PAAS_LOGIN_PENALTY_BASE_SECONDS, 1) * 1000,
      maxPenaltyMs: numberFrom(env.PAAS_LOGIN_PENALTY_MAX_SECONDS, 15 * 60) * 1000,
      failureMemoryMs: numberFrom(env.PAAS_LOGIN_FAILURE_MEMORY_SECONDS, 3600) * 1000,
    },
    tokens: { defaultSeconds: Math.min(24 * 3600, maxSeconds), maxSeconds },
    events: { ttlMs, pruneIntervalMs: Math.min(5 * 60_000, Math.ceil(ttlMs / 12)) },
    binaryMaxBytes: numberFrom(env.PAAS_BINARY_MAX_BYTES, 100 * 1024 * 1024, 1),
  };
}

function numberFrom(value: string | undefined, fallback: number, min = 0): number {
  const parsed = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(parsed) && parsed >= min ? parsed : fallback;
}
