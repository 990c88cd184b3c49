import httpProxy from '@fastify/http-proxy';
import { Logger } from '@nestjs/common';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { sharedListenOptions } from '@paas/platform/ports';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Endpoint } from '../table/balancer';
import type { RouteTarget } from '../table/route-table';
import type { RouterState } from '../table/router-state';
import { badGatewayPage, forbiddenPage, gatewayTimeoutPage, noEndpointsPage, noRoutePage, tooManyRequestsPage } from './error-pages';
import { addForwardedHeaders, hostKey, pathOf } from './forwarded-headers';
import type { RequestObserver } from './request-observer';
import { isRetriable, UpstreamDispatcher } from './upstream-dispatcher';
import { WebSocketTunnel } from './websocket-tunnel';

declare module 'fastify' {
  interface FastifyRequest {
    /** The route a request was matched to, and the endpoint it went to. */
    routerTarget: RouteTarget | null;
    routerEndpoint: Endpoint | null;
    /** Why the endpoint failed, when it did. */
    routerUpstreamError: string;
    /** Reported to the observer already (answered, or given up by the client). */
    routerFinished: boolean;
    /** When routing began (`performance.now()`), for a request that ends without an answer. */
    routerStartedAt: number;
    /** The request's span, when it arrived inside a trace. */
    routerSpan: Span | null;
  }
}

const HTML = 'text/html; charset=utf-8';
/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const tracer = trace.getTracer('paas-router');
/** What a request the client gave up on is reported as (nginx's "client closed request"). */
const CLIENT_CLOSED_REQUEST = 499;
/** Marks a connection whose first request was counted against the rate of new connections. */
const COUNTED = Symbol('router.counted');
/** At most one log line per route this often about its failed answers (502, 504); the rest are counted in it. */
const FAILURE_LOG_INTERVAL_MS = 1_000;

export interface DataPlaneOptions {
  /** Told of every finished request (metrics, access log), and of each that goes to an endpoint. */
  observer?: RequestObserver & { started?(namespace: string, route: string): void };
  /** The port TLS is served on, for the Redirect policy's `Location` (443 when not told). */
  tlsPort?: () => number;
}

/**
 * The data plane: a Fastify server with @fastify/http-proxy that proxies by Host (and path
 * prefix) to the ready endpoints of the route's Services. It reads only the in-memory
 * table, so it keeps serving while NATS or Mongo are down. Per request: a map lookup, the
 * route's checks (TLS policy, allowlist, rate limits), a pick by the route's strategy (or
 * its sticky cookie), and the proxying through `UpstreamDispatcher` (keep-alive pools,
 * timeouts, retries, passive health). TLS connections come decrypted from the TLS front
 * into the same server (`acceptTlsConnection`); WebSocket upgrades are tunnelled.
 */
export class DataPlane {
  private readonly server: FastifyInstance;
  private readonly dispatcher = new UpstreamDispatcher();
  private readonly websockets: WebSocketTunnel;
  private readonly logger = new Logger('DataPlane');
  /** Per route (`namespace/name`): when its last failure was logged, and the failures since. */
  private readonly failureLog = new Map<string, { loggedAt: number; unlogged: number }>();

  constructor(
    private readonly state: RouterState,
    private readonly options: DataPlaneOptions = {},
  ) {
    this.server = Fastify({ logger: false, return503OnClosing: true });
    this.server.decorateRequest('routerTarget', null);
    this.server.decorateRequest('routerEndpoint', null);
    this.server.decorateRequest('routerUpstreamError', '');
    this.server.decorateRequest('routerFinished', false);
    this.server.decorateRequest('routerStartedAt', 0);
    this.server.decorateRequest('routerSpan', null);
    void this.server.register(httpProxy, {
      // Per-request upstreams: an empty base plus getUpstream (STACK-NOTES); the handler below dials them.
      upstream: '',
      replyOptions: { getUpstream: (request) => (request.routerEndpoint as Endpoint).origin },
      disableRequestLogging: true,
      preHandler: (request, reply, done) => this.route(request, reply, done),
      // @fastify/http-proxy routes every method and path here and hands request bodies over as
      // streams; its `handler` option replaces reply-from's `reply.from()` with the router's
      // own dispatch (see UpstreamDispatcher: retries to another endpoint, no stream per answer).
      handler: (request, reply) => this.proxy(request, reply),
    });
    this.server.addHook('onResponse', (request, reply, done) => {
      this.finished(request, reply.statusCode, reply.elapsedTime);
      done();
    });
    // A client that leaves before its answer gets no onResponse: counted as 499, as nginx does.
    this.server.addHook('onRequestAbort', (request, done) => {
      this.finished(request, CLIENT_CLOSED_REQUEST, request.routerStartedAt ? performance.now() - request.routerStartedAt : 0);
      done();
    });
    this.websockets = new WebSocketTunnel((request) => this.routeUpgrade(request));
    this.server.server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => this.websockets.handle(request, socket, head));
  }

  /** Listens, sharing the port with the other replicas, and answers the bound port (the configured one, or the one picked for 0). */
  async listen(port: number, host: string): Promise<number> {
    await this.server.listen(sharedListenOptions(port, host));
    return (this.server.server.address() as AddressInfo).port;
  }

  /** A connection the TLS front decrypted: served by this same HTTP server. */
  acceptTlsConnection(socket: TLSSocket): void {
    this.server.server.emit('connection', socket);
  }

  async close(): Promise<void> {
    this.websockets.closeAll();
    await this.server.close();
    await this.dispatcher.close();
  }

  private route(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    request.routerStartedAt = performance.now();
    const host = hostKey(request.headers.host);
    const target = this.state.table.match(host, pathOf(request.url));
    if (!target) return void reply.code(404).type(HTML).send(noRoutePage(host));
    request.routerTarget = target;
    if (request.headers.traceparent !== undefined) request.routerSpan = startSpan(request, target);
    const socket = request.raw.socket;
    const encrypted = (socket as TLSSocket).encrypted === true;
    if (target.tls && !encrypted) {
      const policy = target.tls.insecureEdgeTerminationPolicy;
      if (policy === 'Redirect') return void reply.redirect(this.httpsUrl(request.headers.host ?? host, request.url), 302);
      if (policy !== 'Allow' || target.tls.termination === 'passthrough') return void reply.code(404).type(HTML).send(noRoutePage(host));
    }
    const client = socket.remoteAddress ?? '';
    const { settings, limits, balancer } = target;
    if (settings.ipAllowlist && !settings.ipAllowlist(client)) return void reply.code(403).type(HTML).send(forbiddenPage(host));
    const now = Date.now();
    if (limits) {
      const counted = socket as Socket & { [COUNTED]?: boolean };
      const exceeded = limits.admit(client, !counted[COUNTED], now);
      counted[COUNTED] = true;
      if (exceeded) return void reply.code(429).header('retry-after', exceeded === 'requests' ? '10' : '3').type(HTML).send(tooManyRequestsPage(host));
    }
    const cookie = settings.stickyCookie;
    let endpoint: Endpoint | undefined;
    if (cookie) {
      const pinned = cookieValue(request.headers.cookie, cookie.name);
      endpoint = pinned ? balancer.byCookie(pinned, now) : undefined;
    }
    endpoint ??= balancer.pick(client, now);
    if (!endpoint) return void reply.code(503).header('cache-control', 'no-cache').type(HTML).send(noEndpointsPage(target.service));
    request.routerEndpoint = endpoint;
    this.options.observer?.started?.(target.namespace, target.name);
    done();
  }

  /** Sends the routed request to its endpoint and streams the answer to the client. */
  private proxy(request: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const response = reply.raw;
    const target = request.routerTarget as RouteTarget;
    const body = request.body;
    let status = 0;
    /** Cancels the upstream request of the attempt in progress. */
    let abortUpstream: (() => void) | undefined;
    response.once('close', () => {
      if (!response.writableFinished) abortUpstream?.();
      this.finished(request, response.writableFinished ? status : CLIENT_CLOSED_REQUEST, performance.now() - request.routerStartedAt);
    });
    this.dispatcher.dispatch(
      {
        target,
        endpoint: request.routerEndpoint as Endpoint,
        method: request.method,
        path: request.url,
        headers: this.requestHeaders(request),
        body: body instanceof Readable ? body : null,
        retriable: isRetriable(request.method, request.headers),
      },
      {
        sending: (endpoint) => (request.routerEndpoint = endpoint),
        failed: (code) => (request.routerUpstreamError = code),
        start: (code, headers) => {
          status = code;
          response.writeHead(code, this.responseHeaders(headers, request));
        },
        data: (chunk) => response.write(chunk),
        onDrain: (resume) => response.once('drain', resume),
        end: () => response.end(),
        error: (code) => {
          if (response.headersSent) return void response.destroy();
          status = code === 'timeout' ? 504 : 502;
          this.logFailure(target, request.routerEndpoint as Endpoint, status, code);
          const page = status === 504 ? gatewayTimeoutPage(target.service) : badGatewayPage(target.service);
          response.writeHead(status, { 'content-type': HTML, 'content-length': Buffer.byteLength(page) }).end(page);
        },
        onClientGone: (abort) => (abortUpstream = abort),
      },
    );
  }

  /** Says why a request got the router's 502 or 504 (the last endpoint and its failure), throttled per route. */
  private logFailure(target: RouteTarget, endpoint: Endpoint, status: number, code: string): void {
    const route = target.key;
    const now = Date.now();
    const last = this.failureLog.get(route);
    if (last && now - last.loggedAt < FAILURE_LOG_INTERVAL_MS) {
      last.unlogged++;
      return;
    }
    const also = last?.unlogged ? ` (and ${last.unlogged} more since the last report)` : '';
    this.logger.warn({ msg: `route ${route} answered ${status}: endpoint ${endpoint.address} failed with ${code}${also}` });
    this.failureLog.set(route, { loggedAt: now, unlogged: 0 });
  }

  private requestHeaders(request: FastifyRequest): IncomingHttpHeaders {
    const { socket } = request.raw;
    const host = request.headers.host ?? '';
    const headers = withoutHopByHop(request.headers, connectionListed(request.headers.connection));
    addForwardedHeaders(headers, socket.remoteAddress ?? '', host, socket.localPort ?? 0, (socket as TLSSocket).encrypted ? 'https' : 'http');
    if (request.routerSpan) propagation.inject(trace.setSpan(ROOT_CONTEXT, request.routerSpan), headers);
    return headers;
  }

  private responseHeaders(received: IncomingHttpHeaders, request: FastifyRequest): IncomingHttpHeaders {
    const headers = withoutHopByHop(received, connectionListed(received.connection));
    const target = request.routerTarget as RouteTarget;
    const endpoint = request.routerEndpoint as Endpoint;
    const { stickyCookie, hsts } = target.settings;
    const encrypted = (request.raw.socket as TLSSocket).encrypted === true;
    if (stickyCookie && cookieValue(request.headers.cookie, stickyCookie.name) !== endpoint.cookieId) {
      const value = `${stickyCookie.name}=${endpoint.cookieId}; Path=/; HttpOnly${stickyCookie.secure || encrypted ? '; Secure' : ''}; SameSite=Lax`;
      const existing = headers['set-cookie'];
      headers['set-cookie'] = existing ? [...existing, value] : [value];
    }
    if (hsts && encrypted) headers['strict-transport-security'] = hsts;
    return headers;
  }

  private finished(request: FastifyRequest, status: number, elapsedMs: number): void {
    if (request.routerFinished) return;
    request.routerFinished = true;
    const target = request.routerTarget;
    const client = request.raw.socket.remoteAddress ?? '';
    if (target?.limits) target.limits.release(client);
    if (request.routerSpan) endSpan(request.routerSpan, status, request.routerEndpoint?.address);
    const observer = this.options.observer;
    if (!observer) return;
    observer.observe({
      namespace: target?.namespace ?? '',
      route: target?.name ?? '',
      method: request.method,
      host: request.headers.host ?? '',
      path: request.url,
      status,
      durationSeconds: elapsedMs / 1000,
      upstream: request.routerEndpoint?.address,
      upstreamError: request.routerUpstreamError || undefined,
      clientIp: client,
      tls: (request.raw.socket as TLSSocket).encrypted === true,
    });
  }

  /** The route and endpoint of a WebSocket upgrade, with the same checks as any request. */
  private routeUpgrade(request: IncomingMessage): { endpoint: Endpoint; headers: IncomingHttpHeaders } | { status: number } {
    const host = hostKey(request.headers.host);
    const target = this.state.table.match(host, pathOf(request.url ?? '/'));
    const socket = request.socket;
    const encrypted = (socket as TLSSocket).encrypted === true;
    if (!target || (target.tls && !encrypted && target.tls.insecureEdgeTerminationPolicy !== 'Allow')) return { status: 404 };
    const client = socket.remoteAddress ?? '';
    if (target.settings.ipAllowlist && !target.settings.ipAllowlist(client)) return { status: 403 };
    const endpoint = target.balancer.pick(client, Date.now());
    if (!endpoint) return { status: 503 };
    const headers = { ...request.headers };
    addForwardedHeaders(headers, client, request.headers.host ?? '', socket.localPort ?? 0, encrypted ? 'https' : 'http');
    return { endpoint, headers };
  }

  private httpsUrl(hostHeader: string, url: string): string {
    const host = hostKey(hostHeader);
    const port = this.options.tlsPort?.() ?? 443;
    return `https://${host}${port === 443 ? '' : `:${port}`}${url}`;
  }
}

/**
 * A copy of `headers` without the hop-by-hop ones (RFC 9110 §7.6.1) and those `Connection`
 * lists; built fresh, since deleting from (or adding to) a spread copy sends V8 down a slow path.
 */
function withoutHopByHop(headers: IncomingHttpHeaders, listed: readonly string[]): IncomingHttpHeaders {
  const copy: IncomingHttpHeaders = {};
  for (const name in headers) if (!HOP_BY_HOP.has(name) && (listed.length === 0 || !listed.includes(name))) copy[name] = headers[name];
  return copy;
}

/** The header names a `Connection` header lists (besides the keep-alive/close tokens). */
function connectionListed(connection: string | string[] | undefined): string[] {
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return [];
  return String(connection)
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name && name !== 'keep-alive' && name !== 'close');
}

/** The span of a request that arrived inside a trace: a child of the caller's, continued to the endpoint. */
function startSpan(request: FastifyRequest, target: RouteTarget): Span {
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const attributes = { 'http.request.method': request.method, 'url.path': request.url, 'server.address': request.headers.host ?? '', 'paas.route': target.key };
  return tracer.startSpan(`${request.method} ${target.key}`, { kind: SpanKind.SERVER, attributes }, parent);
}

function endSpan(span: Span, status: number, upstream: string | undefined): void {
  span.setAttribute('http.response.status_code', status);
  if (upstream) span.setAttribute('paas.endpoint', upstream);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** The value of cookie `name` in a Cookie header, without parsing the others. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let at = header.indexOf(name);
  while (at >= 0) {
    const before = at === 0 ? ' ' : header[at - 1];
    if ((before === ' ' || before === ';') && header.charCodeAt(at + name.length) === 61 /* = */) {
      const start = at + name.length + 1;
      const end = header.indexOf(';', start);
      return header.slice(start, end < 0 ? undefined : end).trim();
    }
    at = header.indexOf(name, at + 1);
  }
  return undefined;
}
