import type { RegistryAction, SystemSubject } from '@paas/contracts/auth';
import type { RpcClient } from './rpc';

/** What dockerd takes in `X-Registry-Auth` to send `Authorization: Bearer <token>` to the registry itself. */
export interface RegistryAuthConfig {
  registrytoken: string;
}

/** Registry credentials for one repository (`ns/name`), as the build and deploy pipelines need them. */
export interface RegistryCredentials {
  authConfig(repository: string, actions: RegistryAction[]): Promise<RegistryAuthConfig>;
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

  async authConfig(repository: string, actions: RegistryAction[]): Promise<RegistryAuthConfig> {
    const { token } = await this.rpc.request('auth.registryToken', { subject: this.subject, access: [{ type: 'repository', name: repository, actions }] }).catch((error: Error) => {
      throw new Error(`no registry token for ${repository} from the api-gateway: ${error.message}`);
    });
    return { registrytoken: token };
  }
}
