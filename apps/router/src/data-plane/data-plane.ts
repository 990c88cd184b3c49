import httpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { RouterState } from '../table/router-state';
import { badGatewayPage, gatewayTimeoutPage, noEndpointsPage, noRoutePage } from './error-pages';
import { addForwardedHeaders, hostKey, pathOf } from './forwarded-headers';

declare module 'fastify' {
  interface FastifyRequest {
    /** The Service a request was routed to, and the endpoint chosen for it. */
    routerService: string;
    routerUpstream: string;
  }
}

const HTML = 'text/html; charset=utf-8';

/**
 * The data plane: a plain Fastify server that proxies by Host (and path prefix) to the
 * ready endpoints of the routed Service, round-robin. It reads only the in-memory table, so
 * it keeps serving while NATS or Mongo are down. Per request: one map lookup, no logging.
 */
export class DataPlane {
  private readonly server: FastifyInstance;

  constructor(
    private readonly state: RouterState,
    private readonly proto: 'http' = 'http',
  ) {
    this.server = Fastify({ logger: false, return503OnClosing: true });
    this.server.decorateRequest('routerService', '');
    this.server.decorateRequest('routerUpstream', '');
    void this.server.register(httpProxy, {
      // Per-Host upstreams: an empty base plus getUpstream (STACK-NOTES).
      upstream: '',
      disableRequestLogging: true,
      preHandler: (request, reply, done) => this.route(request, reply, done),
      replyOptions: {
        getUpstream: (request) => request.routerUpstream,
        rewriteRequestHeaders: (request, headers) => {
          const { socket } = request.raw;
          const host = request.headers.host ?? '';
          addForwardedHeaders(headers, socket.remoteAddress ?? '', host, socket.localPort ?? 0, this.proto);
          // The application sees the Host the client asked for, as behind OpenShift's router.
          headers.host = host;
          return headers;
        },
        onError: (reply, { error }) => this.upstreamFailed(reply as FastifyReply, error as Error & { code?: string }),
        // No retries yet (a later issue); reply-from would otherwise retry GETs answered 503.
        retryDelay: () => null,
      },
    });
  }

  /** Listens and answers the bound port (the configured one, or the one picked for 0). */
  async listen(port: number, host: string): Promise<number> {
    await this.server.listen({ port, host });
    return (this.server.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private route(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const host = hostKey(request.headers.host);
    const target = this.state.table.match(host, pathOf(request.url));
    if (!target) {
      reply.code(404).type(HTML).send(noRoutePage(host));
      return;
    }
    const upstream = target.next();
    if (!upstream) {
      reply.code(503).header('cache-control', 'no-cache').type(HTML).send(noEndpointsPage(target.service));
      return;
    }
    request.routerService = target.service;
    request.routerUpstream = upstream;
    done();
  }

  /** reply-from reports a refused connection as a 500; to the client it is a bad gateway. */
  private upstreamFailed(reply: FastifyReply, error: { code?: string }): void {
    if (reply.sent) return;
    const service = reply.request.routerService;
    if (error.code === 'FST_REPLY_FROM_GATEWAY_TIMEOUT') reply.code(504).type(HTML).send(gatewayTimeoutPage(service));
    else reply.code(502).type(HTML).send(badGatewayPage(service));
  }
}
