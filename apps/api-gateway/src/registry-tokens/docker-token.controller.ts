import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { parseScopes, REGISTRY_SERVICE } from '@paas/contracts/auth';
import { statusOf } from '@paas/platform/api-error';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BASIC_CHALLENGE } from '../auth/auth.guard';
import { Authenticator } from '../auth/authenticator';
import { RegistryTokenIssuer } from './registry-token.issuer';

type QueryValue = string | string[] | undefined;
const values = (value: QueryValue): string[] => (value === undefined ? [] : [value].flat());

/**
 * Docker's token endpoint (the registry's `WWW-Authenticate: Bearer realm=…` points here):
 * `GET /auth/token?service=paas-registry&scope=repository:ns/name:pull,push[&scope=…]`, with
 * Basic credentials (a password, or a token as the password) or none (anonymous). Answers
 * a token for what the caller may do of what it asked; bad credentials are a 401 in the
 * registry's error envelope.
 */
@Controller('auth/token')
export class DockerTokenController {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly issuer: RegistryTokenIssuer,
  ) {}

  @Get()
  async token(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('service') service: QueryValue, @Query('scope') scope: QueryValue) {
    reply.header('Cache-Control', 'no-store');
    const services = values(service);
    if (services.some((name) => name !== REGISTRY_SERVICE)) {
      return reply.code(400).send(envelope('UNSUPPORTED', `unknown service "${services.join(', ')}": this endpoint issues tokens for ${REGISTRY_SERVICE}`));
    }
    let principal;
    try {
      principal = await this.authenticator.authenticate(request);
    } catch (error) {
      const status = statusOf(error);
      if (status.code === 429) {
        return reply.code(429).header('Retry-After', String(status.details?.retryAfterSeconds ?? 1)).send(envelope('TOOMANYREQUESTS', status.message));
      }
      if (status.code !== 401) throw error;
      return reply.code(401).header('WWW-Authenticate', BASIC_CHALLENGE).send(envelope('UNAUTHORIZED', status.message));
    }
    const issued = await this.issuer.issueFor(principal, parseScopes(values(scope)));
    return reply.code(200).send({
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: new Date(issued.issuedAt * 1000).toISOString(),
    });
  }
}

/** The distribution spec's error envelope, which Docker clients print. */
function envelope(code: string, message: string) {
  return { errors: [{ code, message, detail: null }] };
}
