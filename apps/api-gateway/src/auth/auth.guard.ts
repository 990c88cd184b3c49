import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiVerb } from '@paas/contracts/auth';
import { statusOf } from '@paas/platform/api-error';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditTrail } from '../audit/audit-trail';
import { Authenticator, unauthorized } from './authenticator';
import { Authorizer } from './authorizer';
import { AUTHORIZE, type AuthorizeRule } from './authorize.decorator';
import type { AccessRequest } from './policy';
import { setPrincipal } from './principal';

/** What a 401 tells the client to send. */
export const BASIC_CHALLENGE = 'Basic realm="paas"';

const VERB_OF_METHOD: Record<string, ApiVerb> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };

/**
 * Every `/api/v1` call: who is calling (401 without valid credentials) and whether they may
 * (403), by the route's `@Authorize` rule; a route without one is for cluster-admins. A
 * refused call that would have changed something is recorded in the audit trail.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    private readonly authorizer: Authorizer,
    private readonly trail: AuditTrail,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const rule = this.reflector.get<AuthorizeRule | undefined>(AUTHORIZE, context.getHandler());
    if (!rule && !request.url.startsWith('/api/')) return true;
    try {
      const principal = await this.authenticator.authenticate(request);
      if (!principal) throw unauthorized('authentication required: send Authorization: Bearer <token> or Basic credentials');
      setPrincipal(request, principal);
      await this.authorizer.authorize(principal, accessRequestOf(rule, request));
      return true;
    } catch (error) {
      const { code } = statusOf(error);
      if (code === 401) context.switchToHttp().getResponse<FastifyReply>().header('WWW-Authenticate', BASIC_CHALLENGE);
      await this.trail.record(request, code);
      throw error;
    }
  }
}

function accessRequestOf(rule: AuthorizeRule | undefined, request: FastifyRequest): AccessRequest {
  const params = (request.params ?? {}) as Record<string, string | undefined>;
  if (!rule) return { verb: VERB_OF_METHOD[request.method] ?? 'get', resource: request.url.split('?')[0] };
  const resource = rule.resource ?? params.plural ?? 'unknown';
  return rule.namespaceParam === null ? { verb: rule.verb, resource } : { verb: rule.verb, resource, namespace: params[rule.namespaceParam] ?? '' };
}
