/** The windows of the rate limits, as OpenShift's router counts them: connections per 3 s, requests per 10 s. */
export const CONNECTION_WINDOW_MS = 3_000;
export const REQUEST_WINDOW_MS = 10_000;

export interface RateLimits {
  /** Requests one client may have in flight at once. */
  concurrentTcp?: number;
  /** New connections one client may open per 3 s. */
  rateTcp?: number;
  /** Requests one client may send per 10 s. */
  rateHttp?: number;
}

interface ClientCounts {
  requestsSince: number;
  requests: number;
  connectionsSince: number;
  connections: number;
  inFlight: number;
}

/** Why a request was refused, for the 429 page. */
export type LimitExceeded = 'concurrent' | 'connections' | 'requests';

/**
 * Per-client (source address) limits of one route, as `rate-limit-connections` turns them
 * on: fixed windows, counted in this router (several routers each count their own, as
 * HAProxy instances do). Stale clients are dropped as the map is swept once a window.
 */
export class ClientLimits {
  private readonly clients = new Map<string, ClientCounts>();
  private sweptAt = 0;

  constructor(readonly limits: RateLimits) {}

  /** Counts a request (and a new connection when it is one); answers what it exceeds, if anything. */
  admit(client: string, newConnection: boolean, now: number): LimitExceeded | undefined {
    if (now - this.sweptAt > REQUEST_WINDOW_MS) this.sweep(now);
    let counts = this.clients.get(client);
    if (!counts) {
      counts = { requestsSince: now, requests: 0, connectionsSince: now, connections: 0, inFlight: 0 };
      this.clients.set(client, counts);
    }
    if (now - counts.requestsSince >= REQUEST_WINDOW_MS) {
      counts.requestsSince = now;
      counts.requests = 0;
    }
    if (now - counts.connectionsSince >= CONNECTION_WINDOW_MS) {
      counts.connectionsSince = now;
      counts.connections = 0;
    }
    const { concurrentTcp, rateTcp, rateHttp } = this.limits;
    if (concurrentTcp !== undefined && counts.inFlight >= concurrentTcp) return 'concurrent';
    if (newConnection && rateTcp !== undefined && counts.connections >= rateTcp) return 'connections';
    if (rateHttp !== undefined && counts.requests >= rateHttp) return 'requests';
    counts.requests++;
    if (newConnection) counts.connections++;
    counts.inFlight++;
    return undefined;
  }

  /** The request `admit` let through has ended. */
  release(client: string): void {
    const counts = this.clients.get(client);
    if (counts && counts.inFlight > 0) counts.inFlight--;
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [client, counts] of this.clients) if (counts.inFlight === 0 && now - counts.requestsSince >= REQUEST_WINDOW_MS) this.clients.delete(client);
  }
}
