import type { RawBodyRequest } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, RawServerDefault } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ApiError } from './api-error';
import { jsonShapeProblem, type JsonLimits } from './json-limits';

/**
 * What a service's HTTP edge does with request bodies before any handler sees them.
 *
 * Why a refused body must be read: Fastify answers a body over its limit (or any body it
 * could not parse) at once with `Connection: close`, and Node then closes the socket while
 * the rest of the body is still arriving. Closing a socket with unread bytes makes the kernel
 * send a reset instead of a clean end, and a client still writing its body (Python's
 * http.client, anything that sends the whole request before reading) gets EPIPE or
 * ECONNRESET and never reads the 413. So the rest is read and dropped first, as nginx's
 * lingering close does, within a cap of bytes and time.
 */

/** A refused body is read and dropped up to this many bytes; a larger one is cut off (the client may see a reset). */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** ...and for this long at most. */
export const DRAIN_MAX_MS = 10_000;

/** Requests whose client asked `Expect: 100-continue` and was not told to go on: it sends no body. */
const continueRefused = new WeakSet<IncomingMessage>();

/**
 * An answer that goes out before the request's body was read keeps the connection open and
 * reads the rest of the body into nothing, so the client can finish writing and read the
 * answer; then the connection goes on as keep-alive. Beyond the caps it is closed.
 */
export function drainUnreadBodies(fastify: FastifyInstance, caps = { maxBytes: DRAIN_MAX_BYTES, maxMs: DRAIN_MAX_MS }): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    const raw = request.raw;
    // Read to its end, or told not to send it (a body sent anyway would be read as the next request): nothing to do.
    if (raw.complete || continueRefused.has(raw)) return payload;
    if (Number(request.headers['content-length']) > caps.maxBytes) return payload;
    reply.removeHeader('connection');
    drain(raw, caps);
    return payload;
  });
}

function drain(request: IncomingMessage, caps: { maxBytes: number; maxMs: number }): void {
  let drained = 0;
  const cutOff = () => request.socket?.destroy();
  const timer = setTimeout(cutOff, caps.maxMs).unref();
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > caps.maxBytes) cutOff();
  });
  request.once('end', () => clearTimeout(timer));
  request.once('close', () => clearTimeout(timer));
  request.resume();
}

/**
 * A client that sends `Expect: 100-continue` with a Content-Length over the limit of its
 * request (`bodyLimit`, or what it answers for the request: an upload route's own) is answered
 * (413) without being told to continue, so it never sends the body; Node would otherwise say
 * "100 Continue" to everyone.
 */
export function refuseOversizedContinue(server: Server, bodyLimit: number | ((request: IncomingMessage) => number)): void {
  const limitOf = typeof bodyLimit === 'number' ? () => bodyLimit : bodyLimit;
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    if (Number(request.headers['content-length']) > limitOf(request)) continueRefused.add(request);
    else response.writeContinue();
    server.emit('request', request, response);
  });
}

/**
 * Request bodies are JSON (`application/json`) in UTF-8, of a bounded shape checked before
 * parsing; any other media type is a 415 naming what to send, and a body
 * nested too deep or with too many keys a 400. Fastify's plain-text parser and Nest's
 * form parser are gone: a form post or a text body (what a cross-site page can send without
 * asking) changes nothing.
 */
export function acceptJsonBodiesOnly(app: NestFastifyApplication, limits: JsonLimits): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.useBodyParser<RawServerDefault>('application/json', {}, (request, body, done) => {
    const problem = jsonShapeProblem(body, limits);
    if (problem) return done(ApiError.of('BadRequest', `the request body is refused: ${problem}`), undefined);
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return done(ApiError.of('BadRequest', 'the request body is not valid UTF-8, which JSON must be (RFC 8259)'), undefined);
    }
    // Kept for what is checked over the bytes received (a GitHub webhook's HMAC signature).
    (request as RawBodyRequest<typeof request>).rawBody = body;
    return parseJson(request, text, done);
  });
  fastify.addContentTypeParser('*', (request, _payload, done) => {
    // No such route: its 404 says more than a 415 would (Docker falls back to GET /auth/token on a 404).
    if (request.is404) return done(null, undefined);
    const type = request.headers['content-type'] || '(none)';
    done(ApiError.of('UnsupportedMediaType', `the request body's Content-Type ${type} is not accepted: send application/json`), undefined);
  });
}
