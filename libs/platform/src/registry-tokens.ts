import { ANY_REPOSITORY, BUILDER_SERVICE_ACCOUNT, serviceAccountSubject, type AccessEntry, type RegistryAction, type SystemSubject } from '@paas/contracts/auth';
import { ApiError } from './api-error';
import type { RpcClient } from './rpc';

/** What dockerd takes in `X-Registry-Auth` to send `Authorization: Bearer <token>` to the registry itself. */
export interface RegistryAuthConfig {
  registrytoken: string;
}

/** Registry credentials for one repository (`ns/name`), as the build and deploy pipelines need them. */
export interface RegistryCredentials {
  /**
   * `crossMount`: also pull on every repository, for a push. The engine mounts a layer it
   * already pushed to another repository (`?mount=&from=`) only with pull on that one; without
   * it, it uploads the layer again (the builder's ~120 MB for every new app).
   * `forBuildsOf`: for the builds of that namespace, refused (403) unless they may pull it
   * (RegistryTokenRequest.forBuildsOf).
   */
  authConfig(repository: string, actions: RegistryAction[], options?: RegistryAuthOptions): Promise<RegistryAuthConfig>;
}

export interface RegistryAuthOptions {
  crossMount?: boolean;
  forBuildsOf?: string;
}

/**
 * A platform service's registry credentials: a short-lived token from the api-gateway over
 * NATS (`auth.registryToken`), for the service's own subject (`system:build-service`, ...).
 */
export class RegistryTokenClient implements RegistryCredentials {
  constructor(
    private readonly rpc: Pick<RpcClient, 'request'>,
    private readonly subject: SystemSubject,
  ) {}

  async authConfig(repository: string, actions: RegistryAction[], { crossMount, forBuildsOf }: RegistryAuthOptions = {}): Promise<RegistryAuthConfig> {
    const access: AccessEntry[] = [{ type: 'repository', name: repository, actions }];
    if (crossMount) access.push({ type: 'repository', name: ANY_REPOSITORY, actions: ['pull'] });
    const issued = await this.rpc.request('auth.registryToken', { subject: this.subject, access, ...(forBuildsOf ? { forBuildsOf } : {}) }).catch((error: Error) => {
      // The Status stays: a caller tells "the gateway is unreachable for now" (5xx) from a refusal.
      const message = `no registry token for ${repository} from the api-gateway: ${error.message}`;
      throw error instanceof ApiError ? new ApiError({ ...error.status, message }) : new Error(message);
    });
    const granted = issued.access.find((entry) => entry.name === repository)?.actions ?? [];
    if (forBuildsOf && !actions.every((action) => granted.includes(action))) {
      throw ApiError.of('Forbidden', `the builds of namespace ${forBuildsOf} may not ${actions.join(' or ')} ${repository}: its namespace grants them nothing (a role for ${serviceAccountSubject(forBuildsOf, BUILDER_SERVICE_ACCOUNT)}, system:image-puller or more, or anonymous pulls)`);
    }
    return { registrytoken: issued.token };
  }
}
