import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '@paas/platform/api-error';

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type';
const EXPOSED_HEADERS = 'Retry-After, WWW-Authenticate';
const PREFLIGHT_MAX_AGE_SECONDS = 600;
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Cross-origin calls from browsers: only pages of the origins listed (`PAAS_CORS_ORIGINS`)
 * get an allowance. A preflight from any other origin is a 403 with no `Access-Control-*`
 * header, so the browser never sends the call; a write that arrives with another site's
 * `Origin` anyway is refused too (a page may send some writes without a preflight). No
 * allowance covers credentials the browser keeps (cookies, remembered Basic): a page must
 * send its own `Authorization`. Clients that are not browsers send no `Origin`.
 */
export function addCors(fastify: FastifyInstance, allowedOrigins: readonly string[]): void {
  const allowed = new Set(allowedOrigins);
  fastify.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined || isSameOrigin(origin, request)) return;
    const isAllowed = allowed.has(origin);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      if (!isAllowed) throw refused(origin);
      return reply
        .code(204)
        .headers({
          'access-control-allow-origin': origin,
          'access-control-allow-methods': ALLOWED_METHODS,
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
          vary: 'Origin',
        })
        .send();
    }
    if (isAllowed) {
      reply.headers({ 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED_HEADERS, vary: 'Origin' });
    } else if (MUTATING.has(request.method)) {
      throw refused(origin);
    }
  });
}

function refused(origin: string): ApiError {
  return ApiError.of('Forbidden', `cross-origin requests from ${origin} are not allowed: list the origin in PAAS_CORS_ORIGINS`);
}

/** A page the gateway served itself (the console) sends its own origin. */
function isSameOrigin(origin: string, request: FastifyRequest): boolean {
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
