import type { FastifyInstance } from 'fastify';

/**
 * Headers on every answer of the gateway: the browser must not guess a content type
 * (`nosniff`), frame the answer in another page (`frame-ancestors 'none'`, and
 * `X-Frame-Options` for older browsers), or send our URLs (which may name namespaces) to
 * another site (`no-referrer`). API answers hold credentials and private state: never stored
 * by a cache unless the handler said otherwise. HSTS only on an answer that went over TLS,
 * where it means something (a plain-HTTP answer cannot set it, per RFC 6797).
 */
export function addSecurityHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    // API answers load nothing; a page the gateway serves one day (the console) sets its own policy.
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    reply.header('referrer-policy', 'no-referrer');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000');
    return payload;
  });
}
