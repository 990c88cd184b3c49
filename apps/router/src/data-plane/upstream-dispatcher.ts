import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import type { Endpoint } from '../table/balancer';
import type { RouteTarget } from '../table/route-table';

/** A request bound for an endpoint, as the data plane chose it. */
export interface UpstreamCall {
  target: RouteTarget;
  endpoint: Endpoint;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The client's request body; null when it has none. */
  body: Readable | null;
  /** May be sent again when its endpoint fails before answering (an idempotent method without a body). */
  retriable: boolean;
}

/** Where the endpoint's answer goes: the client's response. */
export interface ResponseSink {
  /** The endpoint the request is (finally) going to. */
  sending(endpoint: Endpoint): void;
  /** An endpoint failed with `code` (the request may still be retried elsewhere). */
  failed(code: string): void;
  start(status: number, headers: IncomingHttpHeaders): void;
  /** Writes a chunk; false asks for a pause until `onDrain`'s callback. */
  data(chunk: Buffer): boolean;
  onDrain(resume: () => void): void;
  end(): void;
  /** No answer can be given any more: the error page if nothing was sent yet, else a cut connection. */
  error(code: string): void;
  /** What to do when the client goes away before the end: cancel the current attempt (each retry replaces it). */
  onClientGone(abort: () => void): void;
}

/** Connection failures: the endpoint is left out for a while and the request tried on another. */
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** An endpoint slower than the route's timeout: the data plane answers 504. */
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** The code of the abort a client's departure causes: nothing is tried after it. */
const CLIENT_GONE = 'CLIENT_GONE';
/** Attempts one request may make (on other endpoints, or again on one that dropped its connection). */
const MAX_ATTEMPTS = 3;

/**
 * The undici side of the data plane: one keep-alive pool per endpoint (undici's Agent), the
 * route's timeout on headers and body, the count of requests in flight per endpoint
 * (leastconn), passive health (an endpoint that refuses a connection is ejected for a
 * while) and retries of idempotent requests whose endpoint failed before answering: on
 * another endpoint, or, when every one was tried, again on the one that failed unless it
 * refused (a kept-alive connection it closed, a pod that died mid-request: a new connection
 * is worth a try). The answer streams to the sink through undici's dispatch handler, with
 * backpressure, without a body stream in between: @fastify/reply-from's response path (a
 * stream per answer, piped into the reply) cost about a third of the router's CPU per request.
 */
export class UpstreamDispatcher {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connect: { timeout: 5_000 }, pipelining: 1 });

  dispatch(call: UpstreamCall, sink: ResponseSink): void {
    this.attempt(call, call.endpoint, new Set([call.endpoint]), 1, sink);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private attempt(call: UpstreamCall, endpoint: Endpoint, tried: Set<Endpoint>, attempt: number, sink: ResponseSink): void {
    const timeout = call.target.settings.timeoutMs;
    let started = false;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      endpoint.active--;
      return true;
    };
    endpoint.active++;
    sink.sending(endpoint);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: (controller) => sink.onClientGone(() => controller.abort(Object.assign(new Error('client gone'), { code: CLIENT_GONE }))),
      onResponseStart: (_controller, status, headers) => {
        started = true;
        sink.start(status, headers);
      },
      onResponseData: (controller, chunk) => {
        if (!sink.data(chunk)) {
          controller.pause();
          sink.onDrain(() => controller.resume());
        }
      },
      onResponseEnd: () => {
        if (finish()) sink.end();
      },
      onResponseError: (_controller, error) => {
        if (!finish()) return;
        const code = (error as { code?: string }).code ?? 'ERROR';
        const failure = TIMED_OUT.has(code) ? 'timeout' : code;
        sink.failed(failure);
        const refused = REFUSED.has(code);
        if (refused) endpoint.eject(Date.now());
        const again = !started && call.retriable && failure !== 'timeout' && code !== CLIENT_GONE && attempt < MAX_ATTEMPTS;
        const next = again ? (call.target.balancer.alternative(tried, Date.now()) ?? (refused ? undefined : endpoint)) : undefined;
        if (!next) return sink.error(failure);
        tried.add(next);
        this.attempt(call, next, tried, attempt + 1, sink);
      },
    };
    this.agent.dispatch(
      { origin: endpoint.origin, method: call.method as Dispatcher.HttpMethod, path: call.path, headers: call.headers, body: call.body, headersTimeout: timeout, bodyTimeout: timeout },
      handler,
    );
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Whether a request may be sent again after its connection failed: idempotent, and no body to replay. */
export function isRetriable(method: string, headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  if (!IDEMPOTENT.has(method)) return false;
  const length = headers['content-length'];
  return (length === undefined || length === '0') && headers['transfer-encoding'] === undefined;
}
