/** One finished request, as the data plane reports it to metrics and the access log. */
export interface RequestRecord {
  /** The route's namespace and name; '' when no route matched. */
  namespace: string;
  route: string;
  method: string;
  host: string;
  path: string;
  status: number;
  durationSeconds: number;
  /** The endpoint the request went to, `ip:port`. */
  upstream?: string;
  /** Why the upstream failed (`ECONNREFUSED`, `ECONNRESET`, `timeout`...), when it did. */
  upstreamError?: string;
  clientIp: string;
  tls: boolean;
}

/** Told of every finished request; must be cheap, it runs on the hot path. */
export interface RequestObserver {
  observe(record: RequestRecord): void;
}
