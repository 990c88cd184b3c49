import type { FastifyInstance } from 'fastify';

/**
 * Clients (kubectl among them) send `Content-Type: application/json` on a DELETE or an
 * instantiate with no body; Fastify would refuse that with 400. An empty body is no body.
 */
export function acceptEmptyJsonBodies(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request) => {
    const { headers } = request.raw;
    const hasBody = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
    if (!hasBody) delete headers['content-type'];
  });
}
