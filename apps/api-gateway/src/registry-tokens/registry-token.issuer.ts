import { Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  ANONYMOUS_PULL_ANNOTATION,
  ANY_REPOSITORY,
  BUILDER_SERVICE_ACCOUNT,
  grantedActions,
  namespaceOfRepository,
  namespaceRepositories,
  REGISTRY_ACTIONS_OF_ROLE,
  REGISTRY_SERVICE,
  REGISTRY_TOKEN_DEFAULT_TTL_SECONDS,
  SYSTEM_REGISTRY_ACTIONS,
  serviceAccountSubject,
  TOKEN_ISSUER,
  type AccessEntry,
  type Jwks,
  type RegistryTokenClaims,
  type RegistryTokenRequest,
} from '@paas/contracts/auth';
import { signJwt, type SigningKey } from '@paas/platform/jwt';
import { Authorizer } from '../auth/authorizer';
import type { Principal } from '../auth/principal';
import { CLUSTER_SCOPE } from '../cluster-scope';
import { NamespaceRepository } from '../namespaces/namespace.repository';
import { SigningKeyRepository } from './signing-key.repository';

/** Registry tokens of users live 5 minutes: Docker asks for a new one per push or pull. */
const USER_TOKEN_TTL_SECONDS = 300;
/** A push token names at most this many namespaces to mount layers from (mountSources); bound in more, it names none. */
const MOUNT_NAMESPACES_MAX = 64;

export interface IssuedToken {
  token: string;
  issuedAt: number;
  expiresIn: number;
  access: AccessEntry[];
}

/**
 * Registry tokens (ES256 JWTs): what a caller asks for, narrowed to what its roles allow.
 * Asking for more is never an error; the token just holds less (the registry then refuses).
 */
@Injectable()
export class RegistryTokenIssuer implements OnModuleInit {
  private key?: Promise<SigningKey>;

  constructor(
    private readonly keys: SigningKeyRepository,
    private readonly authorizer: Authorizer,
    private readonly namespaces: NamespaceRepository,
  ) {}

  async onModuleInit() {
    await this.signingKey();
  }

  async jwks(): Promise<Jwks> {
    return { keys: [(await this.signingKey()).publicJwk] };
  }

  /** For a user, a service account or (undefined) an anonymous caller; a push token also names where layers may be mounted from (mountSources). */
  async issueFor(principal: Principal | undefined, asked: AccessEntry[]): Promise<IssuedToken> {
    const access: AccessEntry[] = [];
    for (const entry of asked) {
      const actions = grantedActions(entry.actions, await this.allowedActions(principal, entry));
      if (actions.length) access.push({ ...entry, actions });
    }
    const pushes = access.some((entry) => entry.type === 'repository' && (entry.actions.includes('push') || entry.actions.includes('*')));
    if (principal && pushes) access.push(...(await this.mountSources(principal)));
    return this.sign(principal?.name ?? 'system:anonymous', access, USER_TOKEN_TTL_SECONDS);
  }

  /**
   * Pull on every repository the caller may pull already, namespace by namespace (all of them
   * for a cluster-admin), for a push. The engine asks to mount a layer only from the
   * repositories it last pushed that layer to (three, newest first), and those may all be gone
   * (their namespaces deleted): the registry then mounts it from any repository the token lets
   * it pull, instead of taking the whole layer again. A caller bound in more than
   * MOUNT_NAMESPACES_MAX namespaces gets none of these (the token would outgrow a header).
   */
  private async mountSources(principal: Principal): Promise<AccessEntry[]> {
    if (principal.clusterAdmin) return [{ type: 'repository', name: ANY_REPOSITORY, actions: ['pull'] }];
    const namespaces = await this.authorizer.boundNamespaces(principal);
    if (namespaces.size > MOUNT_NAMESPACES_MAX) return [];
    return [...namespaces].map((namespace) => ({ type: 'repository', name: namespaceRepositories(namespace), actions: ['pull'] }));
  }

  /**
   * For a platform service (over the trusted bus): on any repository (or `*`, all of them), the
   * actions its subject may hold; `forBuildsOf` a namespace, only what its builds may pull.
   */
  async issueForService(request: RegistryTokenRequest): Promise<IssuedToken> {
    const allowed = SYSTEM_REGISTRY_ACTIONS[request.subject];
    const access: AccessEntry[] = [];
    for (const entry of request.access) {
      if (entry.type !== 'repository' || !(entry.name === ANY_REPOSITORY || namespaceOfRepository(entry.name))) continue;
      let actions = grantedActions(entry.actions, allowed);
      if (request.forBuildsOf !== undefined) actions = grantedActions(actions, await this.buildPullActions(request.forBuildsOf, entry.name));
      if (actions.length) access.push({ ...entry, actions });
    }
    return this.sign(request.subject, access, request.ttlSeconds ?? REGISTRY_TOKEN_DEFAULT_TTL_SECONDS);
  }

  /**
   * What the builds of `namespace` may do on `repository`: pull, from their own namespace, one
   * that allows anonymous pulls, or one that binds a role to their BUILDER_SERVICE_ACCOUNT
   * (OpenShift's `system:image-puller` for `system:serviceaccount:<ns>:builder`).
   */
  private async buildPullActions(namespace: string, repository: string): Promise<readonly string[]> {
    if (namespaceOfRepository(repository) === namespace) return ['pull'];
    const builder: Principal = { kind: 'ServiceAccount', name: serviceAccountSubject(namespace, BUILDER_SERVICE_ACCOUNT), namespace, serviceAccount: BUILDER_SERVICE_ACCOUNT, clusterAdmin: false };
    return grantedActions(['pull'], await this.allowedActions(builder, { type: 'repository', name: repository, actions: ['pull'] }));
  }

  private async allowedActions(principal: Principal | undefined, entry: AccessEntry): Promise<readonly string[]> {
    if (entry.type === 'registry') return principal?.clusterAdmin && entry.name === 'catalog' ? ['*'] : [];
    if (principal?.clusterAdmin) return ['*'];
    const namespace = namespaceOfRepository(entry.name);
    if (!namespace) return [];
    const role = principal ? await this.authorizer.roleIn(principal, namespace) : undefined;
    const anonymous = (await this.namespaces.find(CLUSTER_SCOPE, namespace))?.metadata.annotations?.[ANONYMOUS_PULL_ANNOTATION] === 'true' ? ['pull'] : [];
    return [...(role ? REGISTRY_ACTIONS_OF_ROLE[role] : []), ...anonymous];
  }

  private async sign(subject: string, access: AccessEntry[], ttlSeconds: number): Promise<IssuedToken> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const claims: RegistryTokenClaims = {
      iss: TOKEN_ISSUER,
      sub: subject,
      aud: REGISTRY_SERVICE,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + ttlSeconds,
      jti: randomUUID(),
      access,
    };
    return { token: signJwt(claims, await this.signingKey()), issuedAt, expiresIn: ttlSeconds, access };
  }

  private signingKey(): Promise<SigningKey> {
    this.key ??= this.keys.loadOrCreate().catch((error) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }
}
