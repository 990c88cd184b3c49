import { escapeLabel } from '@paas/platform/metrics';
import type { RequestObserver, RequestRecord } from '../data-plane/request-observer';

/** Upper bounds of the latency histogram, in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** How an upstream failed, from the error code the data plane reports. */
export const UPSTREAM_ERROR_KINDS = ['connect_refused', 'reset', 'timeout', 'other'] as const;
export type UpstreamErrorKind = (typeof UPSTREAM_ERROR_KINDS)[number];

const REFUSED = 0;
const RESET = 1;
const TIMEOUT = 2;
const OTHER = 3;

/** Node, undici and @fastify/reply-from codes, mapped to the kinds above. */
export function upstreamErrorKind(code: string): UpstreamErrorKind {
  return UPSTREAM_ERROR_KINDS[upstreamErrorIndex(code)];
}

function upstreamErrorIndex(code: string): number {
  switch (code) {
    case 'ECONNREFUSED':
      return REFUSED;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'reset':
      return RESET;
    case 'timeout':
    case 'ETIMEDOUT':
    case 'ESOCKETTIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'FST_REPLY_FROM_GATEWAY_TIMEOUT':
      return TIMEOUT;
    default:
      return OTHER;
  }
}

/**
 * The counters of one route (or of the requests no route matched): plain numbers in
 * typed arrays, updated in place. The label text is rendered once, when the series is made.
 */
class RouteSeries {
  /** Requests by status class, 1xx..5xx. */
  readonly byClass = new Float64Array(STATUS_CLASSES.length);
  /** Per-bucket (not cumulative) latency counts; the last slot is above the largest bound. */
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  durationSum = 0;
  readonly upstreamErrors = new Float64Array(UPSTREAM_ERROR_KINDS.length);
  inFlight = 0;
  /** Observed since the last scrape; `lastSeenMs` is updated at scrape time, not per request. */
  touched = true;
  lastSeenMs: number;

  constructor(
    readonly labels: string,
    nowMs: number,
  ) {
    this.lastSeenMs = nowMs;
  }
}

export interface RouterMetricsOptions {
  /** A route's series is dropped once idle this long with nothing in flight (routes come and go). */
  idleSeriesMs?: number;
  now?: () => number;
}

const DEFAULT_IDLE_SERIES_MS = 60 * 60 * 1000;

/**
 * Prometheus metrics per route (`namespace`, `route`; both empty for requests no route
 * matched): requests by status class, a latency histogram, upstream errors by kind and
 * requests in flight. `observe` is the hot path: two map lookups and a few increments, no
 * strings or objects made; the text exposition is built only when scraped.
 */
export class RouterMetrics implements RequestObserver {
  private readonly byNamespace = new Map<string, Map<string, RouteSeries>>();
  private readonly idleSeriesMs: number;
  private readonly now: () => number;
  /** In-flight is reported only once the data plane calls `started`. */
  private tracksInFlight = false;

  constructor(options: RouterMetricsOptions = {}) {
    this.idleSeriesMs = options.idleSeriesMs ?? DEFAULT_IDLE_SERIES_MS;
    this.now = options.now ?? Date.now;
  }

  /** A request matched the route and goes to an endpoint; its `observe` (with `upstream` set) ends it. */
  started(namespace: string, route: string): void {
    this.tracksInFlight = true;
    this.series(namespace, route).inFlight++;
  }

  observe(record: RequestRecord): void {
    const series = this.series(record.namespace, record.route);
    series.touched = true;
    let statusClass = ((record.status / 100) | 0) - 1;
    if (statusClass < 0) statusClass = 0;
    else if (statusClass > 4) statusClass = 4;
    series.byClass[statusClass]++;
    const seconds = record.durationSeconds;
    series.durationSum += seconds;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[bucket]) bucket++;
    series.buckets[bucket]++;
    if (record.upstreamError !== undefined) series.upstreamErrors[upstreamErrorIndex(record.upstreamError)]++;
    // Only a request that went to an endpoint was started; the guard keeps the gauge sane if one was not.
    if (this.tracksInFlight && record.upstream !== undefined && series.inFlight > 0) series.inFlight--;
  }

  /** The text exposition format 0.0.4, built now. */
  render(): string {
    const series = this.collect();
    const requests = ['# HELP router_requests_total Requests answered, by route and status class.', '# TYPE router_requests_total counter'];
    const durations = [
      '# HELP router_request_duration_seconds Time from a request arriving to its response ending, by route.',
      '# TYPE router_request_duration_seconds histogram',
    ];
    const errors = ['# HELP router_upstream_errors_total Requests whose endpoint failed, by route and kind.', '# TYPE router_upstream_errors_total counter'];
    const inFlight = ['# HELP router_requests_in_flight Requests sent to an endpoint and not answered yet, by route.', '# TYPE router_requests_in_flight gauge'];
    for (const s of series) {
      for (let i = 0; i < STATUS_CLASSES.length; i++) requests.push(`router_requests_total{${s.labels},code="${STATUS_CLASSES[i]}"} ${s.byClass[i]}`);
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += s.buckets[i];
        durations.push(`router_request_duration_seconds_bucket{${s.labels},le="${LATENCY_BUCKETS[i]}"} ${cumulative}`);
      }
      cumulative += s.buckets[LATENCY_BUCKETS.length];
      durations.push(`router_request_duration_seconds_bucket{${s.labels},le="+Inf"} ${cumulative}`);
      durations.push(`router_request_duration_seconds_sum{${s.labels}} ${s.durationSum}`);
      durations.push(`router_request_duration_seconds_count{${s.labels}} ${cumulative}`);
      for (let i = 0; i < UPSTREAM_ERROR_KINDS.length; i++) errors.push(`router_upstream_errors_total{${s.labels},kind="${UPSTREAM_ERROR_KINDS[i]}"} ${s.upstreamErrors[i]}`);
      if (this.tracksInFlight) inFlight.push(`router_requests_in_flight{${s.labels}} ${s.inFlight}`);
    }
    return [...requests, ...durations, ...errors, ...(this.tracksInFlight ? inFlight : []), ''].join('\n');
  }

  private series(namespace: string, route: string): RouteSeries {
    let routes = this.byNamespace.get(namespace);
    if (routes === undefined) {
      routes = new Map();
      this.byNamespace.set(namespace, routes);
    }
    let series = routes.get(route);
    if (series === undefined) {
      series = new RouteSeries(`namespace="${escapeLabel(namespace)}",route="${escapeLabel(route)}"`, this.now());
      routes.set(route, series);
    }
    return series;
  }

  /** The live series in a stable order; drops those idle past `idleSeriesMs`. */
  private collect(): RouteSeries[] {
    const nowMs = this.now();
    const live: RouteSeries[] = [];
    for (const [namespace, routes] of this.byNamespace) {
      for (const [route, series] of routes) {
        if (series.touched) {
          series.touched = false;
          series.lastSeenMs = nowMs;
        } else if (series.inFlight === 0 && nowMs - series.lastSeenMs > this.idleSeriesMs) {
          routes.delete(route);
          continue;
        }
        live.push(series);
      }
      if (routes.size === 0) this.byNamespace.delete(namespace);
    }
    return live.sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
  }
}
