import { Injectable, type OnModuleInit } from '@nestjs/common';
import { registryTokenRequestSchema } from '@paas/contracts/auth';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import { RpcServer } from '@paas/platform/rpc';
import { RegistryTokenIssuer } from './registry-token.issuer';

/**
 * `auth.keys`: the public keys the registry verifies tokens with (JWKS).
 * `auth.registryToken`: a token for the build- or deploy-service; NATS is the platform's
 * trusted internal network, as for every other request.
 */
@Injectable()
export class RegistryAuthRpc implements OnModuleInit {
  constructor(
    private readonly rpc: RpcServer,
    private readonly issuer: RegistryTokenIssuer,
  ) {}

  onModuleInit() {
    this.rpc.handle('auth.keys', () => this.issuer.jwks());
    this.rpc.handle('auth.registryToken', async (request) => {
      const parsed = validate(registryTokenRequestSchema, request, 'RegistryTokenRequest');
      if (!parsed.ok) throw new ApiError(parsed.status);
      const issued = await this.issuer.issueForService(parsed.value);
      return { token: issued.token, expiresAt: new Date((issued.issuedAt + issued.expiresIn) * 1000).toISOString(), access: issued.access };
    });
  }
}
