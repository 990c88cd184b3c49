import { Agent, type Dispatcher } from 'undici';
import type { Endpoint } from '../table/balancer';
import type { RouteTarget } from '../table/route-table';

/** A request bound for an endpoint, as the data plane chose it. */
export interface UpstreamCall {
  target: RouteTarget;
  endpoint: Endpoint;
  /** May go to another endpoint when the connection fails (an idempotent method without a body). */
  retriable: boolean;
  /** Told where the request finally went, and why an endpoint failed. */
  onEndpoint(endpoint: Endpoint): void;
  onFailure(code: string): void;
}

/** Connection failures: the endpoint is left out for a while and the request tried on another. */
const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** A kept-alive connection the endpoint closed (a pod draining): retried elsewhere, the endpoint kept. */
const DROPPED = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);
/** An endpoint slower than the route's timeout: the data plane answers 504. */
const TIMED_OUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** Endpoints one request may try. */
const MAX_ATTEMPTS = 3;

type RequestOptions = Dispatcher.RequestOptions & { origin: string };
type Callback = (error: Error | null, data?: Dispatcher.ResponseData) => void;

/**
 * The undici side of the data plane, given to @fastify/reply-from as its dispatcher (its
 * `undici: { request }` option): one keep-alive pool per endpoint (undici's Agent), the
 * route's timeout on headers and body, the count of requests in flight per endpoint
 * (leastconn), passive health (an endpoint that refuses a connection is ejected for a
 * while) and retries of idempotent requests on another endpoint when a connection fails.
 * reply-from has retries of its own, but only to the URL it started with.
 *
 * reply-from calls `request` synchronously from the handler that chose the endpoint, which
 * hands the call over with `expect` just before; a request that arrives without one (none
 * does) is passed through as it is.
 */
export class UpstreamDispatcher {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000, connect: { timeout: 5_000 }, pipelining: 1 });
  private next?: UpstreamCall;

  /** The call the next `request` belongs to. */
  expect(call: UpstreamCall): void {
    this.next = call;
  }

  request(options: RequestOptions, callback: Callback): void {
    const call = this.next;
    this.next = undefined;
    if (!call || call.endpoint.origin !== options.origin) {
      this.agent.request(options, callback);
      return;
    }
    this.send(options, call, new Set([call.endpoint]), callback);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private send(options: RequestOptions, call: UpstreamCall, tried: Set<Endpoint>, callback: Callback): void {
    const endpoint = call.endpoint;
    const timeout = call.target.settings.timeoutMs;
    endpoint.active++;
    this.agent.request({ ...options, origin: endpoint.origin, headersTimeout: timeout, bodyTimeout: timeout }, (error, data) => {
      if (error) {
        endpoint.active--;
        const code = (error as { code?: string }).code ?? 'ERROR';
        call.onFailure(TIMED_OUT.has(code) ? 'timeout' : code);
        const refused = REFUSED.has(code);
        if (refused) endpoint.eject(Date.now());
        if ((refused || DROPPED.has(code)) && call.retriable && tried.size < MAX_ATTEMPTS) {
          const other = call.target.balancer.alternative(tried, Date.now());
          if (other) {
            tried.add(other);
            call.endpoint = other;
            call.onEndpoint(other);
            this.send(options, call, tried, callback);
            return;
          }
        }
        callback(error);
        return;
      }
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        endpoint.active--;
      };
      data.body.once('end', end).once('close', end).once('error', end);
      callback(null, data);
    });
  }
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Whether a request may be sent again after its connection failed: idempotent, and no body to replay. */
export function isRetriable(method: string, headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  if (!IDEMPOTENT.has(method)) return false;
  const length = headers['content-length'];
  return (length === undefined || length === '0') && headers['transfer-encoding'] === undefined;
}
