import { ApiError } from '@paas/platform/api-error';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';

/** A Binary build's upload, at both of its paths (`oc start-build --from-dir` uses OpenShift's). */
const BINARY_UPLOAD_PATH = /^\/(api\/v1|apis\/build\.openshift\.io\/v1)\/namespaces\/[^/?]+\/buildconfigs\/[^/?]+\/instantiatebinary(\?|$)/;
const BINARY_UPLOAD_TYPE = 'application/x-paas-binary-upload';

export function isBinaryUpload(request: IncomingMessage): boolean {
  return request.method === 'POST' && BINARY_UPLOAD_PATH.test(request.url ?? '');
}

/**
 * The one exception to "bodies are JSON" (docs/security.md, "The HTTP edge"): the body of a
 * Binary build's upload is an archive or a file whatever Content-Type the client gave it (`oc`
 * says application/json), handed to the route unread as a stream, so that the guard refuses a
 * caller before a byte is read and the handler streams it on without holding it. Its limit is
 * `maxBytes`, not the JSON one: a Content-Length over it is a 413 at once (one that says less
 * and sends more is cut off by the handler).
 */
export function acceptBinaryUploads(fastify: FastifyInstance, maxBytes: number): void {
  fastify.addHook('onRequest', async (request) => {
    if (!isBinaryUpload(request.raw)) return;
    if (Number(request.headers['content-length']) > maxBytes) throw ApiError.of('RequestEntityTooLarge', `the upload is larger than ${maxBytes} bytes (PAAS_BINARY_MAX_BYTES)`);
    request.raw.headers['content-type'] = BINARY_UPLOAD_TYPE;
  });
  fastify.addContentTypeParser(BINARY_UPLOAD_TYPE, (_request, payload, done) => done(null, payload));
}
