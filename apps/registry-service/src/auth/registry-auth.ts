import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Jwks } from '@paas/contracts/auth';
import { JwtError } from '@paas/platform/jwt';
import { RpcClient } from '@paas/platform/rpc';
import { RegistryError } from '../distribution/errors';
import { REGISTRY_SETTINGS, type RegistrySettings } from '../registry-settings';
import { bearerToken, requireAccess, unauthorized, UNCHECKED_CALLER, verifyRegistryToken, type Caller, type Need } from './token-access';

/** The key set is fetched again for an unknown key id at most this often. */
const KEY_REFRESH_MS = 10_000;
const KEYS_TIMEOUT_MS = 2_000;
/** Verified tokens remembered (a push sends dozens of requests with one token). */
const MAX_REMEMBERED_TOKENS = 4096;

/**
 * The registry's side of Docker's token flow: the api-gateway issues tokens, the registry
 * checks them against the gateway's public keys (`auth.keys` over NATS, cached; fetched
 * again when a token names a key not seen yet, so a new key needs no restart). When the
 * keys cannot be had at all the answer is 503, never a 401 that would blame the client's
 * credentials. `REGISTRY_AUTH=none` turns checking off (a registry on a trusted network).
 */
@Injectable()
export class RegistryAuth {
  private readonly logger = new Logger(RegistryAuth.name);
  private jwks?: Jwks;
  private fetchedAt = 0;
  private fetching?: Promise<Jwks>;
  private readonly verified = new Map<string, Caller>();

  constructor(
    private readonly rpc: RpcClient,
    @Inject(REGISTRY_SETTINGS) private readonly settings: Pick<RegistrySettings, 'auth'>,
  ) {}

  /** The caller when `authorization` grants `need`; throws UNAUTHORIZED (with its challenge) or UNAVAILABLE. */
  async authorize(authorization: string | undefined, need: Need): Promise<Caller> {
    const { auth } = this.settings;
    if (!auth.enabled) return UNCHECKED_CALLER;
    const token = bearerToken(authorization);
    if (!token) throw unauthorized(need, auth);
    const caller = this.remembered(token) ?? this.remember(token, await this.verify(token, need));
    requireAccess(caller, need, auth);
    return caller;
  }

  private async verify(token: string, need: Need): Promise<Caller> {
    const asUnauthorized = (error: unknown) => (error instanceof JwtError ? unauthorized(need, this.settings.auth, 'invalid_token', `invalid token: ${error.message}`) : error);
    try {
      return verifyRegistryToken(token, await this.keys());
    } catch (error) {
      if (!(error instanceof JwtError && error.unknownKid && Date.now() - this.fetchedAt >= KEY_REFRESH_MS)) throw asUnauthorized(error);
    }
    // A key the gateway made after our last fetch: fetch once more.
    try {
      return verifyRegistryToken(token, await this.keys(true));
    } catch (error) {
      throw asUnauthorized(error);
    }
  }

  private remembered(token: string): Caller | undefined {
    const caller = this.verified.get(token);
    if (caller && caller.expiresAt > Date.now()) return caller;
    if (caller) this.verified.delete(token);
    return undefined;
  }

  private remember(token: string, caller: Caller): Caller {
    if (this.verified.size >= MAX_REMEMBERED_TOKENS) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, caller);
    return caller;
  }

  private async keys(refresh = false): Promise<Jwks> {
    if (this.jwks && !refresh) return this.jwks;
    this.fetching ??= this.rpc
      .request('auth.keys', {}, { timeoutMs: KEYS_TIMEOUT_MS })
      .then((jwks) => {
        this.jwks = jwks;
        this.fetchedAt = Date.now();
        return jwks;
      })
      .catch((error: Error) => {
        this.logger.warn({ msg: `cannot fetch the token keys from the api-gateway: ${error.message}` });
        if (this.jwks) return this.jwks;
        throw new RegistryError('UNAVAILABLE', 'the registry cannot check tokens now: the api-gateway does not answer');
      })
      .finally(() => (this.fetching = undefined));
    return this.fetching;
  }
}
